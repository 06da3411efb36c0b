"""The worker runs stored webhooks in batches: one transaction per batch, one savepoint per event. What
must hold: a failing event is undone alone and counted; a batch that cannot commit leaves every event of it
pending (nothing half done); batches are bounded; live pages hear of a batch once."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlmodel import select

from navaia_app.conversations.models import Conversation, WebhookEvent
from navaia_app.core.db import get_engine
from navaia_app.jobs import tasks
from navaia_app.tickets.models import Ticket

from .conftest import ticket_call


def store(post_webhook, count: int, prefix: str) -> list[int]:
    return [post_webhook(ticket_call(f"{prefix}_{i}", issue_summary=f"Issue {i}")).json()["event_id"]
            for i in range(count)]


def statuses(session, ids: list[int]) -> list[tuple[str, int]]:
    session.expire_all()
    return [(e.status, e.attempts) for e in (session.get(WebhookEvent, i) for i in ids)]


def conversations(session) -> list[str]:
    session.expire_all()
    return sorted(session.exec(select(Conversation.external_id)))


@contextmanager
def commits_counted():
    seen = []
    listener = lambda _conn: seen.append(1)  # noqa: E731
    sa.event.listen(get_engine(), "commit", listener)
    try:
        yield seen
    finally:
        sa.event.remove(get_engine(), "commit", listener)


def test_an_event_failing_halfway_is_undone_alone_and_counted(post_webhook, session, monkeypatch):
    from navaia_app.tickets import service as tickets

    ids = store(post_webhook, 3, "half")
    create = tickets.create_ticket

    def create_or_break(**kwargs):
        if kwargs["title"] == "Issue 1":  # after its conversation was written
            raise RuntimeError("the disk is on fire")
        return create(**kwargs)

    monkeypatch.setattr(tickets, "create_ticket", create_or_break)
    monkeypatch.setattr(tasks, "BATCH_SECONDS", 60)  # one batch, however slow this machine is today
    with commits_counted() as commits, pytest.raises(RuntimeError, match="1 webhook event"):
        tasks.process_webhook_events(ids)
    assert statuses(session, ids) == [("processed", 1), ("pending", 1), ("processed", 1)]
    assert "the disk is on fire" in session.get(WebhookEvent, ids[1]).last_error
    assert conversations(session) == ["half_0", "half_2"]  # nothing of half_1 stayed
    assert sorted(session.exec(select(Ticket.title))) == ["Issue 0", "Issue 2"]
    assert len(commits) == 2  # the batch, then the failure's count

    monkeypatch.setattr(tickets, "create_ticket", create)
    assert tasks.process_webhook_events(ids) == {"skipped": 2, "processed": 1}  # RQ's retry
    assert conversations(session) == ["half_0", "half_1", "half_2"]


def test_a_batch_that_cannot_commit_leaves_all_its_events_pending(post_webhook, session, monkeypatch):
    from navaia_app.core import db

    ids = store(post_webhook, 3, "gone")
    real = db.session_scope

    @contextmanager
    def commit_fails():
        with real() as own:
            yield own
            own.rollback()
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(tasks, "session_scope", commit_fails)
    with pytest.raises(RuntimeError, match="3 webhook event"):
        tasks.process_webhook_events(ids)
    assert statuses(session, ids) == [("pending", 0)] * 3  # not counted as tries: nothing ran to the end
    assert conversations(session) == []
    monkeypatch.setattr(tasks, "session_scope", real)
    assert tasks.process_webhook_events(ids) == {"processed": 3}
    assert conversations(session) == ["gone_0", "gone_1", "gone_2"]


def test_batches_are_bounded_and_each_is_one_commit(post_webhook, session, monkeypatch):
    from navaia_app.core import live

    ids = store(post_webhook, 5, "bounded")
    monkeypatch.setattr(tasks, "BATCH_EVENTS", 2)
    monkeypatch.setattr(tasks, "BATCH_SECONDS", 60)
    before = live.versions(session, ["tickets", "conversations"])
    session.commit()
    with commits_counted() as commits:
        assert tasks.process_webhook_events(ids) == {"processed": 5}
    assert len(commits) == 3  # 2 + 2 + 1
    after = live.versions(session, ["tickets", "conversations"])
    assert {k: after[k] - before[k] for k in after} == {"tickets": 3, "conversations": 3}  # once per batch
    assert conversations(session) == [f"bounded_{i}" for i in range(5)]


def test_a_batch_stops_at_its_time_budget(post_webhook, session, monkeypatch):
    ids = store(post_webhook, 3, "budget")
    monkeypatch.setattr(tasks, "BATCH_SECONDS", 0)  # every batch is its first event alone
    with commits_counted() as commits:
        assert tasks.process_webhook_events(ids) == {"processed": 3}
    assert len(commits) == 3
    assert statuses(session, ids) == [("processed", 1)] * 3


def test_events_of_one_conversation_in_one_batch_keep_their_order(post_webhook, session, call_env):
    """The recording stored before its transcription, both in one batch: the conversation gets the audio."""
    import base64

    from .conftest import sample

    audio = sample("post_call_raise_ticket")
    audio = {"type": "post_call_audio", "event_timestamp": audio["event_timestamp"],
             "data": {"agent_id": "agent_1", "conversation_id": "ordered",
                      "full_audio": base64.b64encode(b"ID3 fake mp3 bytes").decode()}}
    first = post_webhook(audio).json()["event_id"]
    second = post_webhook(ticket_call("ordered")).json()["event_id"]
    assert tasks.process_webhook_events([first, second]) == {"processed": 2}
    session.expire_all()
    conversation = session.exec(select(Conversation).where(Conversation.external_id == "ordered")).one()
    assert conversation.audio_path and conversation.ticket_id
