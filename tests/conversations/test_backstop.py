"""Nothing lost when ElevenLabs never calls: the backstop lists the last 24 hours of conversations from
the ElevenLabs API (a local stand-in that drops some webhooks), stores the missing ones through the same
inbox, and a late webhook is then a duplicate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import func, select

from navaia_app.bookings.models import Booking
from navaia_app.conversations.models import Conversation, SyncRun, WebhookEvent
from navaia_app.core.db import session_scope
from navaia_app.jobs import tasks
from navaia_app.tickets.models import Ticket
from tests.support import elevenlabs_api

from .conftest import booking_call, future_day, local_time, ticket_call


@pytest.fixture
def history(call_env, set_env) -> Iterator[elevenlabs_api.ConversationHistory]:
    for standin in elevenlabs_api.serve():
        set_env(ELEVENLABS_API_BASE_URL=standin.url, ELEVENLABS_API_KEY=elevenlabs_api.API_KEY,
                ELEVENLABS_AGENT_ID=elevenlabs_api.AGENT_ID, ELEVENLABS_SYNC_SECONDS="300")
        yield standin


def _count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _process_pending() -> int:
    """What the worker (or, with Redis down as here, the inbox sweeper) does with the stored rows."""
    with session_scope() as session:
        pending = list(session.exec(select(WebhookEvent.id).where(WebhookEvent.status == "pending")))
    for event_id in pending:
        assert tasks.process_webhook_event(event_id) == "processed"
    return len(pending)


def _calls(history: elevenlabs_api.ConversationHistory, count: int) -> list[str]:
    day = future_day()
    ids = []
    for i in range(count):
        if i % 2:
            doc = ticket_call(f"conv_lost_{i}", issue_summary=f"Problem number {i}")
        else:
            doc = booking_call(f"conv_lost_{i}", when=local_time(day, 9 + i), phone=f"+1415555{i:04d}")
        ids.append(history.add(doc["data"]))
    return ids


def test_lost_webhooks_are_recovered_and_a_late_one_is_a_duplicate(history, deliver, post_webhook):
    ids = _calls(history, 6)
    dropped = {ids[1], ids[2], ids[5]}
    for doc in history.post_call_webhooks(drop=dropped.__contains__):  # what reached us
        deliver(doc)
    assert _count(Conversation) == 3

    result = tasks.sync_elevenlabs_conversations()
    assert result == {"status": "ok", "listed": 6, "missing": 3, "recovered": 3}
    assert _process_pending() == 3
    with session_scope() as session:
        calls = {c.external_id: c for c in session.exec(select(Conversation))}
        assert set(calls) == set(ids)
        assert calls[ids[2]].booking_id is not None and calls[ids[1]].ticket_id is not None
        assert calls[ids[5]].ticket_id is not None
        run = session.exec(select(SyncRun)).one()
        assert (run.status, run.listed, run.missing, run.recovered) == ("ok", 6, 3, 3)
        assert sorted(run.recovered_ids) == sorted(dropped)
    assert _count(Booking) == 3 and _count(Ticket) == 3

    # ElevenLabs' own retry arrives after all: the same inbox key, so nothing is made twice.
    late = history.post_call_webhooks(drop=lambda cid: cid != ids[2])[0]
    response = post_webhook(late)
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    # and the next run finds nothing missing
    assert tasks.sync_elevenlabs_conversations() == {"status": "ok", "listed": 6, "missing": 0, "recovered": 0}
    assert _count(Booking) == 3 and _count(Ticket) == 3 and _count(WebhookEvent) == 6


def test_only_finished_conversations_of_the_last_day_are_fetched(history):
    now = int(time.time())
    history.add(ticket_call("conv_running")["data"], status="processing")
    history.add(ticket_call("conv_old")["data"], started=now - 25 * 3600)
    history.add(ticket_call("conv_other_agent")["data"], agent_id="agent_someone_else")
    history.add(ticket_call("conv_new")["data"])
    assert tasks.sync_elevenlabs_conversations()["recovered"] == 1
    with session_scope() as session:
        assert list(session.exec(select(WebhookEvent.external_id))) == ["conv_new"]
    listing = [q for path, q in history.requests if path == "/v1/convai/conversations"][0]
    assert abs(int(listing["call_start_after_unix"][0]) - (now - 24 * 3600)) < 60
    assert listing["agent_id"] == [elevenlabs_api.AGENT_ID]
    fetched = [path for path, _q in history.requests if path.startswith("/v1/convai/conversations/")]
    assert fetched == ["/v1/convai/conversations/conv_new"]  # the running one waits for a later run


def test_every_page_is_read_and_a_long_backlog_takes_several_runs(history, monkeypatch):
    from navaia_app.conversations import backstop

    monkeypatch.setattr(backstop, "MAX_RECOVERED_PER_RUN", 200)
    for i in range(230):
        history.add(ticket_call(f"conv_page_{i}")["data"], started=int(time.time()) - 60 - i)
    result = tasks.sync_elevenlabs_conversations()
    assert result == {"status": "ok", "listed": 230, "missing": 230, "recovered": 200}
    assert sum(path == "/v1/convai/conversations" for path, _q in history.requests) == 3
    assert tasks.sync_elevenlabs_conversations() == {"status": "ok", "listed": 230, "missing": 30, "recovered": 30}
    assert _count(WebhookEvent) == 230


@pytest.mark.parametrize("status", [401, 500])
def test_an_api_failure_is_recorded_and_changes_nothing(history, status):
    _calls(history, 2)
    history.fail_with = status
    result = tasks.sync_elevenlabs_conversations()
    assert result["status"] == "failed" and _count(WebhookEvent) == 0
    with session_scope() as session:
        run = session.exec(select(SyncRun)).one()
        assert run.status == "failed" and str(status) in run.error
    history.fail_with = None  # the next run catches up
    assert tasks.sync_elevenlabs_conversations()["recovered"] == 2


def test_unreachable_api_is_a_failed_run(call_env, set_env):
    set_env(ELEVENLABS_API_BASE_URL="http://127.0.0.1:9", ELEVENLABS_API_KEY="k", ELEVENLABS_SYNC_SECONDS="300")
    assert tasks.sync_elevenlabs_conversations()["status"] == "failed"


def test_without_an_api_key_the_run_says_so(call_env, set_env):
    set_env(ELEVENLABS_API_KEY="", ELEVENLABS_SYNC_SECONDS="300")
    assert tasks.sync_elevenlabs_conversations()["status"] == "skipped"
    with session_scope() as session:
        assert "ELEVENLABS_API_KEY" in session.exec(select(SyncRun)).one().error


def test_switched_off_it_is_not_booked_and_does_nothing(history, set_env):
    from navaia_app.jobs.periodic import periodic_jobs

    names = {job.name: job for job in periodic_jobs()}
    assert names["sync-elevenlabs-conversations"].every == timedelta(seconds=300)
    set_env(ELEVENLABS_SYNC_SECONDS="0")
    assert "sync-elevenlabs-conversations" not in {job.name for job in periodic_jobs()}
    _calls(history, 1)
    assert tasks.sync_elevenlabs_conversations() == {"status": "off"}
    assert _count(SyncRun) == 0


def test_booked_once_however_many_workers(history, own_redis):
    import redis

    from navaia_app.jobs.periodic import elevenlabs_sync_job, schedule_periodic_jobs

    connection = redis.Redis.from_url(own_redis.url)
    job = elevenlabs_sync_job()
    first = schedule_periodic_jobs(connection, jobs=(job,))
    second = schedule_periodic_jobs(connection, jobs=(job,))  # another worker, the same slot
    assert len(first) == 1 and second == []


def test_the_system_page_shows_the_last_run(history, make_user, deliver):
    from navaia_app.system import service

    ids = _calls(history, 2)
    deliver(history.post_call_webhooks(drop=lambda cid: cid == ids[1])[0])
    tasks.sync_elevenlabs_conversations()
    with session_scope() as session:
        status = service.system_status(session=session, viewer=make_user(role="admin"))
    assert status.sync_every_seconds == 300
    assert status.sync_runs[0].recovered == 1 and status.sync_runs[0].recovered_ids == [ids[1]]
