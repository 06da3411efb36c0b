"""conversations.service on SQLite and PostgreSQL: reading payloads, matching callers, the review queue,
the inbox's retry schedule, and the REST API that lists calls."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from navaia_app.bookings.models import Booking
from navaia_app.conversations import service
from navaia_app.conversations.models import Conversation, WebhookEvent
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.types import utcnow
from navaia_app.tickets.models import Ticket

from .conftest import booking_call, future_day, local_time, ticket_call

UTC = timezone.utc


# --- reading payloads (no database) ---------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("2030-01-08T15:00:00", datetime(2030, 1, 8, 15, tzinfo=ZoneInfo("Europe/Paris"))),
    ("2030-01-08 15:00", datetime(2030, 1, 8, 15, tzinfo=ZoneInfo("Europe/Paris"))),
    ("2030-01-08T15:00:00Z", datetime(2030, 1, 8, 15, tzinfo=UTC)),
    ("2030-01-08T15:00:00-05:00", datetime(2030, 1, 8, 20, tzinfo=UTC)),
    ("2030-01-08", None), ("tomorrow at 3", None), ("", None), (None, None), (12345, None),
])
def test_parse_appointment_time(value, expected):
    parsed = service.parse_appointment_time(value, ZoneInfo("Europe/Paris"))
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


@pytest.mark.parametrize(("value", "minutes"), [(30, 30), ("45", 45), ("45 minutes", 45), ("1 hour", 60),
                                                ("1.5 hours", 90), (30.0, 30), ("soon", None), (True, None)])
def test_parse_minutes(value, minutes):
    assert service.parse_minutes(value) == minutes


@pytest.mark.parametrize(("value", "priority"), [("HIGH", "high"), ("critical", "urgent"), ("normal", "medium"),
                                                 ("whatever", "medium"), (None, "medium")])
def test_normalize_priority(value, priority):
    assert service.normalize_priority(value) == priority


def test_reading_intent_slots_and_caller():
    doc = booking_call("c", when="2030-01-08T10:00", phone="(415) 555-0123", customer_phone=None)
    data = doc["data"]
    values = service.collected_values(data)
    assert values["service"] == "Dental cleaning" and "customer_phone" not in values
    assert service.read_intent(data, values) == "book_appointment"
    assert service.read_intent({"intent": "Raise Ticket"}, {}) == "raise_ticket"
    identity = service.caller_identity(data, values)
    assert identity.phones == ["+14155550123"] and identity.email == "maria.lopez@example.com"
    assert identity.name == "Maria Lopez" and identity.customer_id is None


def test_transcript_keeps_roles_messages_times_and_tools():
    turns = service.normalize_transcript([
        {"role": "agent", "message": "Hi", "time_in_call_secs": 0},
        {"role": "agent", "message": None, "tool_calls": [{"tool_name": "check_availability"}]},
        {"role": "user", "message": "", "tool_calls": []},
        "garbage",
    ])
    assert turns == [{"role": "agent", "message": "Hi", "time_in_call_secs": 0, "tool_calls": []},
                     {"role": "agent", "message": "", "time_in_call_secs": 0, "tool_calls": ["check_availability"]}]


# --- customers -----------------------------------------------------------------------------------------


def test_find_or_create_customer(session, app_env):
    identity = service.CallerIdentity(phones=["+14155550123"], email="bad email", name="Maria")
    customer, why = service.find_or_create_customer(session=session, identity=identity)
    assert why == "" and (customer.name, customer.phone, customer.email) == ("Maria", "+14155550123", None)
    again, _ = service.find_or_create_customer(session=session, identity=identity)
    assert again.id == customer.id
    nameless, _ = service.find_or_create_customer(
        session=session, identity=service.CallerIdentity(phones=["+442071838750"]))
    assert nameless.name == "Caller +44 20 7183 8750"
    nobody, why = service.find_or_create_customer(session=session, identity=service.CallerIdentity(name="X"))
    assert nobody is None and "no phone number" in why


# --- the review queue -----------------------------------------------------------------------------------


@pytest.fixture
def review_call(deliver, session):
    """A booking call that went to review (the slot was unreadable)."""
    deliver(booking_call("conv_review", when="next Tuesday afternoon", phone="+14155550123"))
    return session.exec(select(Conversation).where(Conversation.external_id == "conv_review")).one()


def test_review_defaults_prefill_the_forms(session, review_call):
    values = service.review_defaults(session=session, conversation=review_call)
    assert values["customer_name"] == "Maria Lopez" and values["customer_phone"] == "+14155550123"
    assert values["service"] == "Dental cleaning" and values["starts_at"] == ""
    assert values["timezone"] == "UTC" and values["duration_minutes"] == "30"
    assert values["description"].startswith("Caller Maria Lopez")


def test_staff_create_the_booking_from_a_reviewed_call(session, review_call, make_user):
    user = make_user(role="agent")
    day = future_day()
    call = service.book_from_call(session=session, conversation_id=review_call.id, user_id=user.id,
                                  customer_name="Maria Lopez", customer_phone="(415) 555-0123", service="Cleaning",
                                  starts_at=local_time(day, 11)[:16], duration_minutes="60")
    session.commit()
    booking = session.get(Booking, call.booking_id)
    assert (call.needs_review, call.outcome, call.reviewed_by_id) == (False, "booking_created", user.id)
    assert (booking.source, booking.conversation_id, booking.duration_minutes) == ("ai_call", call.id, 60)
    assert booking.starts_at == datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
    with pytest.raises(Conflict):  # handled already
        service.dismiss_review(session=session, conversation_id=call.id, user_id=user.id)


def test_a_refused_review_booking_keeps_the_call_in_review(session, review_call):
    with pytest.raises(ValidationFailed) as refused:
        service.book_from_call(session=session, conversation_id=review_call.id, user_id=None,
                               customer_name="Maria", customer_phone="+14155550123", service="Cleaning",
                               starts_at="2020-01-01T10:00")
    assert "in the past" in refused.value.message
    session.rollback()
    session.expire_all()
    assert session.get(Conversation, review_call.id).needs_review
    with pytest.raises(ValidationFailed) as no_time:
        service.book_from_call(session=session, conversation_id=review_call.id, user_id=None,
                               customer_name="Maria", customer_phone="+14155550123", service="Cleaning",
                               starts_at="")
    assert no_time.value.field == "starts_at"
    with pytest.raises(ValidationFailed) as bad_phone:
        service.book_from_call(session=session, conversation_id=review_call.id, user_id=None,
                               customer_name="Maria", customer_phone="12", service="Cleaning",
                               starts_at=local_time(future_day(), 10))
    assert bad_phone.value.field == "customer_phone"


def test_staff_raise_the_ticket_or_dismiss(session, deliver):
    deliver(ticket_call("conv_review_t", intent="complaint"))
    deliver(ticket_call("conv_review_d", intent="complaint"))
    calls = {c.external_id: c for c in session.exec(select(Conversation))}
    ticketed = service.ticket_from_call(session=session, conversation_id=calls["conv_review_t"].id, user_id=None,
                                        title="Complaint about billing", priority="high")
    dismissed = service.dismiss_review(session=session, conversation_id=calls["conv_review_d"].id, user_id=None,
                                       note="Wrong number")
    session.commit()
    ticket = session.get(Ticket, ticketed.ticket_id)
    assert (ticket.title, ticket.source, ticket.conversation_id) == ("Complaint about billing", "ai_call", ticketed.id)
    assert ticketed.outcome == "ticket_created" and not ticketed.needs_review
    assert (dismissed.outcome, dismissed.needs_review, dismissed.review_reason) == (
        "dismissed", False, "Dismissed: Wrong number")
    assert service.count_needs_review(session=session) == 0
    with pytest.raises(NotFound):
        service.dismiss_review(session=session, conversation_id=999999, user_id=None)


# --- the inbox's schedule -----------------------------------------------------------------------------------


def test_due_inbox_events_waits_longer_after_each_try(session, app_env):
    now = utcnow()

    def add(external_id, *, received, attempts=0, last=None, status="pending"):
        session.add(WebhookEvent(source="elevenlabs", event_type="post_call_transcription", external_id=external_id,
                                 payload="{}", status=status, attempts=attempts, received_at=received,
                                 last_attempt_at=last))

    add("fresh", received=now - timedelta(seconds=5))
    add("stuck", received=now - timedelta(minutes=5))
    add("retried_recently", received=now - timedelta(hours=1), attempts=2, last=now - timedelta(minutes=1))
    add("retried_long_ago", received=now - timedelta(hours=1), attempts=2, last=now - timedelta(minutes=3))
    add("done", received=now - timedelta(hours=1), status="processed")
    add("failed", received=now - timedelta(hours=1), status="failed", attempts=5)
    session.commit()
    due = service.due_inbox_events(session=session, now=now)
    names = {e.id: e.external_id for e in session.exec(select(WebhookEvent))}
    assert sorted(names[i] for i in due) == ["retried_long_ago", "stuck"]
    assert service.inbox_counts(session=session) == {"pending": 4, "failed": 1}


# --- finding calls (REST) -------------------------------------------------------------------------------------


CONTRACT_FIELDS = {"id", "external_id", "customer_id", "intent", "status", "summary", "transcript", "ticket_id",
                   "booking_id", "needs_review"}


def test_conversations_rest_api_lists_and_filters(api_client, auth_headers, deliver, session):
    deliver(booking_call("conv_rest_1", when=local_time(future_day(), 10), phone="+14155550123"))
    deliver(ticket_call("conv_rest_2", intent="other"))
    assert api_client.get("/api/v1/conversations").status_code == 401
    page = api_client.get("/api/v1/conversations", headers=auth_headers).json()
    assert page["total"] == 2 and CONTRACT_FIELDS <= set(page["items"][0])
    by_id = api_client.get("/api/v1/conversations", params={"external_id": "conv_rest_1"},
                           headers=auth_headers).json()
    assert [c["external_id"] for c in by_id["items"]] == ["conv_rest_1"]
    item = by_id["items"][0]
    assert item["intent"] == "book_appointment" and item["booking_id"] and not item["needs_review"]
    assert item["transcript"][0]["role"] == "agent"
    review = api_client.get("/api/v1/conversations", params={"needs_review": "true"}, headers=auth_headers).json()
    assert [c["external_id"] for c in review["items"]] == ["conv_rest_2"]
    customer_id = item["customer_id"]
    mine = api_client.get("/api/v1/conversations", params={"customer_id": customer_id}, headers=auth_headers).json()
    assert {c["external_id"] for c in mine["items"]} == {"conv_rest_1"}
    one = api_client.get(f"/api/v1/conversations/{item['id']}", headers=auth_headers)
    assert one.status_code == 200 and one.json()["summary"] == item["summary"]
    assert api_client.get("/api/v1/conversations/424242", headers=auth_headers).status_code == 404
    bad = api_client.get("/api/v1/conversations", params={"outcome": "exploded"}, headers=auth_headers)
    assert bad.status_code == 422
    assert api_client.get(f"/api/v1/conversations/{item['id']}/audio", headers=auth_headers).status_code == 404
