"""Retention, on SQLite and PostgreSQL: the daily purge removes recordings, transcripts and webhook payloads
past their period (files and rows), keeps what is younger or kept forever, and records what it removed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from navaia_app.conversations import webhook as inbound
from navaia_app.conversations.models import Conversation, WebhookEvent
from navaia_app.core.db import session_scope
from navaia_app.core.types import utcnow
from navaia_app.jobs.tasks import purge_past_retention
from navaia_app.privacy import retention
from navaia_app.privacy.models import RetentionPolicy
from navaia_app.webhooks_out.models import OutgoingEvent, WebhookDelivery, WebhookEndpoint


def _call(external_id: str, age_days: int) -> int:
    created = utcnow() - timedelta(days=age_days)
    path = inbound.save_audio(external_id, b"ID3 audio " + external_id.encode())
    with session_scope() as session:
        conversation = Conversation(external_id=external_id, transcript=[{"role": "user", "message": "hello"}],
                                    data_collection={"intent": {"value": "raise_ticket"}}, summary="A call",
                                    audio_path=path, created_at=created, updated_at=created)
        session.add(conversation)
        session.add(WebhookEvent(source="elevenlabs", event_type="post_call_audio", external_id=external_id,
                                 payload="{}", status="processed", received_at=created, media_path=path))
        session.flush()
        return conversation.id


def test_purge_removes_what_is_past_due_and_says_how_much(call_env):
    old, middle, young = _call("conv_old", 400), _call("conv_middle", 120), _call("conv_young", 10)
    with session_scope() as session:
        endpoint = WebhookEndpoint(url="http://127.0.0.1:9/x", events=["ticket.created"], secret="whsec_eA==")
        session.add(endpoint)
        session.flush()
        for age, status in ((400, "delivered"), (400, "pending"), (10, "delivered")):
            event = OutgoingEvent(message_id=f"msg_{age}_{status}", event_type="ticket.created", payload="{}",
                                  created_at=utcnow() - timedelta(days=age))
            session.add(event)
            session.flush()
            session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, status=status))

    report = purge_past_retention()  # the defaults: recordings 90 days, transcripts and payloads a year

    assert report["recordings"] == 2 and report["recording_bytes"] > 0
    assert report["transcripts"] == 1 and report["inbound_payloads"] == 1 and report["outgoing_events"] == 1
    with session_scope() as session:
        calls = {c.id: c for c in session.exec(select(Conversation))}
        assert calls[old].audio_path is None and calls[old].transcript == [] and calls[old].summary == "A call"
        assert calls[middle].audio_path is None and calls[middle].transcript  # a recording is kept 90 days only
        assert calls[young].audio_path and inbound.audio_path(calls[young].audio_path) is not None
        assert sorted(e.external_id for e in session.exec(select(WebhookEvent))) == ["conv_middle", "conv_young"]
        kept = sorted(e.message_id for e in session.exec(select(OutgoingEvent)))
        assert kept == ["msg_10_delivered", "msg_400_pending"]  # an event still being delivered stays
        policy = session.get(RetentionPolicy, 1)
        assert policy.last_run_at is not None and policy.last_run_report["transcripts"] == 1
    files = [p for p in inbound.media_root().rglob("*.mp3")]
    assert len(files) == 1

    again = retention.purge()  # nothing left to do
    assert again["recordings"] == again["transcripts"] == again["inbound_payloads"] == 0


def test_forever_keeps_everything(call_env, make_user):
    admin = make_user(email="retention-admin@example.com", role="admin")
    with session_scope() as session:
        retention.update_policy(session=session, actor=admin, changes={"recordings_days": None,
                                                                       "transcripts_days": None,
                                                                       "payloads_days": None})
    _call("conv_ancient", 4000)
    report = retention.purge()
    assert report["recordings"] == report["transcripts"] == report["inbound_payloads"] == 0
    with session_scope() as session:
        (call,) = session.exec(select(Conversation)).all()
        assert call.audio_path and call.transcript


def test_retention_settings_over_http(call_env, api_client, auth_headers, make_user, login):
    current = api_client.get("/api/v1/settings/retention", headers=auth_headers).json()
    assert (current["recordings_days"], current["transcripts_days"], current["payloads_days"]) == (90, 365, 365)
    changed = api_client.put("/api/v1/settings/retention", headers=auth_headers,
                             json={"recordings_days": 30, "payloads_days": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["recordings_days"], changed.json()["payloads_days"]) == (30, None)
    assert changed.json()["transcripts_days"] == 365
    for bad in ({"recordings_days": 0}, {"recordings_days": "soon"}, {"keep": 3}):
        assert api_client.put("/api/v1/settings/retention", headers=auth_headers, json=bad).status_code == 422
    agent = login(make_user(email="retention-agent@example.com", role="agent").email)
    assert api_client.put("/api/v1/settings/retention", headers=agent, json={"recordings_days": 5}).status_code == 403
    assert api_client.get("/api/v1/settings/retention", headers=auth_headers).json()["recordings_days"] == 30
