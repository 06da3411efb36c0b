"""The simulated carrier: deterministic, believable calls in the configured proportions, and a signed
post-call event for each answered call through the real ElevenLabs webhook path."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlmodel import select

from navaia_app.campaigns import service
from navaia_app.outreach import dispatcher
from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignIn
from navaia_app.conversations.models import Conversation, WebhookEvent
from navaia_app.core.db import session_scope
from navaia_app.customers.models import CustomerIn
from navaia_app.customers.service import create_customer
from navaia_app.telephony.simulated import SimulatedProvider, call_id_for, parse_outcomes, plan

SECRET = "whsec-simulated-test"


def test_outcomes_follow_the_configured_mix_and_are_deterministic(set_env):
    set_env(SIMULATED_OUTCOMES="completed:50,busy:30,no_answer:20", SIMULATED_TIME_SCALE="1")
    fates = [plan(call_id_for(f"navaia-{i}-1")) for i in range(3000)]
    shares = Counter(f.outcome for f in fates)
    assert abs(shares["completed"] / 3000 - 0.5) < 0.04 and abs(shares["busy"] / 3000 - 0.3) < 0.04
    assert set(shares) == {"completed", "busy", "no_answer"}
    assert plan(call_id_for("navaia-7-1")) == plan(call_id_for("navaia-7-1"))
    answered = [f for f in fates if f.outcome == "completed"]
    assert all(4 <= f.ring_seconds <= 18 and 25 <= f.talk_seconds <= 150 for f in answered)
    set_env(SIMULATED_TIME_SCALE="0.1")
    assert plan(call_id_for("navaia-7-1")).ring_seconds < 2


def test_poll_reports_ringing_answer_and_end(set_env):
    set_env(SIMULATED_OUTCOMES="completed:1", SIMULATED_TIME_SCALE="1")
    provider = SimulatedProvider()
    sid = call_id_for("navaia-1-1")
    fate = plan(sid)
    placed = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    attempt = SimpleNamespace(provider_call_id=sid, placed_at=placed, status="ringing")
    assert provider.poll_updates([attempt], placed + timedelta(seconds=1)) == []
    (answered,) = provider.poll_updates([attempt], placed + timedelta(seconds=fate.ring_seconds + 1))
    assert answered.status == "in_progress"
    attempt.status = "in_progress"  # the dispatcher recorded it
    (ended,) = provider.poll_updates([attempt], placed + timedelta(seconds=fate.ends_after + 1))
    assert (ended.status, ended.duration_seconds) == ("completed", round(fate.talk_seconds))
    # a poll that comes only after the end still reports the answer first (the agent talks in between)
    late = SimpleNamespace(provider_call_id=sid, placed_at=placed, status="ringing")
    (first,) = provider.poll_updates([late], placed + timedelta(seconds=fate.ends_after + 1))
    assert first.status == "in_progress"


def test_bad_outcome_settings_are_refused():
    import pytest

    with pytest.raises(ValueError):
        parse_outcomes("completed:70,exploded:30")
    with pytest.raises(ValueError):
        parse_outcomes("completed:0")


def test_answered_calls_send_a_signed_post_call_event_through_the_webhook(app_env, set_env, live_api):
    set_env(ELEVENLABS_WEBHOOK_SECRET=SECRET, SIMULATED_OUTCOMES="completed:1", SIMULATED_TIME_SCALE="0.01",
            TELEPHONY_PROVIDER="simulated", REDIS_URL="redis://127.0.0.1:6390/0")
    with session_scope() as session:
        customer = create_customer(session=session, customer_in=CustomerIn(name="Maria Lopez",
                                                                           phone="+14155550123"))
        cid = service.create_campaign(session=session, campaign_in=CampaignIn(
            name="Check-ins", purpose="the yearly check-up", calling_window_start="00:00",
            calling_window_end="00:00", calling_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            max_attempts=1, variables={"clinic": "Downtown"})).id
        service.start_campaign(session=session, campaign_id=cid)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dispatcher.run(slice_seconds=1, take_queued=True)
        with session_scope() as session:
            if session.get(Campaign, cid).status == "completed":
                break
    with session_scope() as session:
        call = session.exec(select(CampaignCall).where(CampaignCall.campaign_id == cid)).one()
        assert call.status == "completed"
        event = session.exec(select(WebhookEvent).where(WebhookEvent.event_type == "post_call_transcription")).one()
    import json

    payload = json.loads(event.payload)
    data = payload.get("data", payload)
    variables = data["conversation_initiation_client_data"]["dynamic_variables"]
    assert (variables["customer_id"], variables["campaign_id"], variables["campaign_call_id"]) == (
        str(customer.id), str(cid), str(call.id))
    assert variables["customer_name"] == "Maria Lopez" and variables["clinic"] == "Downtown"
    assert "data_collection_results" in data["analysis"]
    assert data["metadata"]["phone_call"]["call_sid"] == call.provider_call_id
    # the call-automation side turns it into a conversation linked to this call
    from navaia_app.conversations import service as conversations

    with session_scope() as session:
        conversations.process_inbox_event(session=session, event_id=event.id)
    with session_scope() as session:
        call = session.get(CampaignCall, call.id)
        conversation = session.exec(select(Conversation)).one()
        assert call.conversation_id == conversation.id and call.status == "completed"
        assert conversation.customer_id == customer.id


def test_simulated_reminder_calls_answer_through_the_agents_tools(app_env, set_env, live_api, make_user):
    """In `make run` a reminder call ends the way a real one does: the simulated agent uses the same tools over
    the same API and signed token (confirm, cancel with a reason, free times then a move), so the booking says
    "confirmed by phone"; the post-call webhook's transcript tells the same story and is linked to the reminder."""
    import json

    from navaia_app.activity.models import ActivityEntry
    from navaia_app.bookings import service as bookings
    from navaia_app.bookings.models import Booking
    from navaia_app.conversations import service as conversations
    from navaia_app.core.types import utcnow
    from navaia_app.reminders import sender
    from navaia_app.reminders import service as reminders
    from navaia_app.reminders.models import BookingReminder
    from navaia_app.telephony.simulated import reminder_answer

    set_env(ELEVENLABS_WEBHOOK_SECRET=SECRET, AGENT_TOOLS_SECRET="tools-secret", SIMULATED_OUTCOMES="completed:1",
            SIMULATED_TIME_SCALE="0.01", TELEPHONY_PROVIDER="simulated", SMS_PROVIDER="simulated",
            REDIS_URL="redis://127.0.0.1:6390/0", BUSINESS_HOURS="mon-sun 00:00-23:30")
    admin = make_user(email="boss@example.com", role="admin")
    now = utcnow()
    with session_scope() as session:
        reminders.update_reminder_settings(session=session, actor=admin, now=now, changes={
            "enabled": True, "window_start": "00:00", "window_end": "23:59"})
        ids = []
        for n in range(8):
            customer = create_customer(session=session, customer_in=CustomerIn(
                name=f"Customer {n}", phone=f"+1415555{n:04d}", timezone="UTC"))
            ids.append(bookings.create_booking(
                session=session, customer_id=customer.id, service="Consultation", resource=f"room-{n}",
                starts_at=(now + timedelta(hours=5 + n)).replace(minute=0, second=0, microsecond=0),
                enforce_schedule=False, now=now).id)  # inside the 24 h lead time: reminded at once
    assert sender.run(utcnow()).get("call") == 8
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dispatcher.run(slice_seconds=1, take_queued=True)
        with session_scope() as session:
            statuses = session.exec(select(CampaignCall.status).where(CampaignCall.purpose == "reminder")).all()
            if len(statuses) >= 8 and all(s == "completed" for s in statuses):
                break
    expected = {"confirm": "confirmed", "cancel": "cancelled", "reschedule": "rescheduled",
                "no_decision": "no_decision"}
    seen = set()
    with session_scope() as session:
        for event in session.exec(select(WebhookEvent).where(WebhookEvent.event_type == "post_call_transcription")):
            conversations.process_inbox_event(session=session, event_id=event.id)
    with session_scope() as session:
        for booking_id in ids:
            reminder = session.exec(select(BookingReminder).where(  # a moved booking is planned again: the first
                BookingReminder.booking_id == booking_id, BookingReminder.channel == "call")
                .order_by(BookingReminder.id)).first()
            call = session.get(CampaignCall, reminder.outbound_call_id)
            answer = reminder_answer(call.provider_call_id)
            seen.add(answer)
            assert (call.status, reminder.status, reminder.result) == ("completed", "answered", expected[answer])
            booking = session.get(Booking, booking_id)
            assert booking.status == {"confirm": "confirmed", "cancel": "cancelled"}.get(answer, "pending")
            said = [e for e in session.exec(select(ActivityEntry).where(
                ActivityEntry.subject_type == "booking", ActivityEntry.subject_id == booking_id,
                ActivityEntry.kind == "reminder", ActivityEntry.from_value == "call"))]
            if answer != "no_decision":
                assert any(e.to_value == expected[answer] and "by phone" in e.body for e in said)
            conversation = session.get(Conversation, reminder.conversation_id)
            assert conversation is not None and conversation.campaign_call_id == call.id
            tools = [t for turn in conversation.transcript for t in turn.get("tool_calls") or []]
            assert tools == ([] if answer == "no_decision" else [f"{answer}_booking"])
    assert "confirm" in seen and len(seen) >= 2, seen
