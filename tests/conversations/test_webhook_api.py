"""The ElevenLabs post-call webhook, line by line of the contract, through HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from navaia_app.bookings.models import Booking
from navaia_app.campaigns.models import Campaign, CampaignCall
from navaia_app.conversations.models import Conversation, WebhookEvent
from navaia_app.customers.models import Customer
from navaia_app.tickets.models import Ticket

from .conftest import WEBHOOK, booking_call, future_day, local_time, sample, signed_headers, ticket_call


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def conversation(session, external_id: str) -> Conversation:
    session.expire_all()
    return session.exec(select(Conversation).where(Conversation.external_id == external_id)).one()


def add_customer(session, name="Maria Lopez", phone="+14155550123", email=None, tz=None) -> Customer:
    customer = Customer(name=name, phone=phone, email=email, timezone=tz)
    session.add(customer)
    session.commit()
    return customer


def nothing_written(session) -> bool:
    return count(session, WebhookEvent) == 0 and count(session, Conversation) == 0


# --- signature ----------------------------------------------------------------------------------


def test_a_signed_booking_call_is_stored_answered_and_becomes_a_booking(post_webhook, session):
    day = future_day()
    doc = booking_call("conv_book_1", when=local_time(day, 15))
    response = post_webhook(doc)
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    event = session.get(WebhookEvent, response.json()["event_id"])
    assert (event.source, event.event_type, event.external_id, event.status) == (
        "elevenlabs", "post_call_transcription", "conv_book_1", "pending")
    assert json.loads(event.payload) == doc  # the signed document, as received

    from navaia_app.jobs.tasks import process_webhook_event

    assert process_webhook_event(event.id) == "processed"
    call = conversation(session, "conv_book_1")
    booking = session.get(Booking, call.booking_id)
    customer = session.get(Customer, call.customer_id)
    assert (call.intent, call.outcome, call.needs_review, call.status) == (
        "book_appointment", "booking_created", False, "done")
    assert (customer.name, customer.phone, customer.email) == ("Maria Lopez", "+14155550123",
                                                               "maria.lopez@example.com")
    assert (booking.service, booking.source, booking.conversation_id, booking.customer_id) == (
        "Dental cleaning", "ai_call", call.id, customer.id)
    assert booking.starts_at == datetime(day.year, day.month, day.day, 15, tzinfo=timezone.utc)
    assert call.duration_seconds == 34 and call.summary.startswith("Caller Maria Lopez")
    assert [t["role"] for t in call.transcript] == ["agent", "user", "agent", "user", "agent"]
    assert call.data_collection["service"] == "Dental cleaning"
    assert call.caller_phone == "+14155550123" and call.direction == "inbound"
    session.expire_all()
    assert session.get(WebhookEvent, event.id).status == "processed"


def test_tampered_body_is_401_and_nothing_is_written(api_client, call_env, session):
    body = json.dumps(booking_call("conv_tamper", when=local_time(future_day(), 10))).encode()
    headers = signed_headers(body)
    tampered = body.replace(b"Dental cleaning", b"Dental cleanin!")
    response = api_client.post(WEBHOOK, content=tampered, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "ElevenLabs-Signature does not match the body."
    assert nothing_written(session)


def test_wrong_secret_is_401(post_webhook, session):
    response = post_webhook(sample("post_call_raise_ticket"), secret="not-the-secret")
    assert response.status_code == 401 and nothing_written(session)


@pytest.mark.parametrize("offset", [-31 * 60, 31 * 60, -24 * 3600, 10 * 365 * 86400])
def test_stale_or_future_timestamp_is_401(post_webhook, session, offset):
    response = post_webhook(sample("post_call_raise_ticket"), timestamp=int(time.time()) + offset)
    assert response.status_code == 401
    assert "30-minute window" in response.json()["detail"]
    assert nothing_written(session)


@pytest.mark.parametrize("offset", [-29 * 60, 29 * 60])
def test_timestamp_inside_the_window_either_way_is_accepted(post_webhook, offset):
    assert post_webhook(sample("post_call_raise_ticket"), timestamp=int(time.time()) + offset).status_code == 200


@pytest.mark.parametrize("header", [
    None, "", "garbage", "t=,v0=", "v0=" + "a" * 64, "t=1764151200", "t=abc,v0=" + "a" * 64, "t=1764151200,v0=xyz",
    "t=1764151200,v1=" + "a" * 64, "t=-5,v0=" + "a" * 64, "t=1764151200;v0=" + "a" * 64,
])
def test_missing_or_malformed_signature_header_is_401(api_client, call_env, session, header):
    body = json.dumps(sample("post_call_raise_ticket")).encode()
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["ElevenLabs-Signature"] = header
    response = api_client.post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["detail"]
    assert nothing_written(session)


def test_signature_with_a_rotated_second_v0_is_accepted(post_webhook):
    body = json.dumps(sample("post_call_raise_ticket")).encode()
    good = signed_headers(body)["ElevenLabs-Signature"]
    t, v0 = good.split(",")
    header = f"{t},v0={'0' * 64},{v0}"
    response = post_webhook(body, headers={"ElevenLabs-Signature": header, "Content-Type": "application/json"})
    assert response.status_code == 200


def test_without_a_configured_secret_the_webhook_answers_503(post_webhook, set_env, session):
    set_env(ELEVENLABS_WEBHOOK_SECRET="")
    response = post_webhook(sample("post_call_raise_ticket"))
    assert response.status_code == 503
    assert "ELEVENLABS_WEBHOOK_SECRET" in response.json()["detail"]
    assert nothing_written(session)


# --- bodies -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "status", "detail"), [
    (b"not json at all", 400, "not valid JSON"),
    (b"\xff\xfe\x00", 400, "not valid JSON"),
    (b"", 400, "not valid JSON"),
    (b"[1, 2]", 422, "JSON object"),
    (b'{"type": "post_call_transcription"}', 422, "data"),
    (b'{"type": "post_call_transcription", "data": []}', 422, "data"),
    (b'{"type": "post_call_transcription", "data": {}}', 422, "conversation_id"),
    (b'{"type": "post_call_transcription", "data": {"conversation_id": 42}}', 422, "conversation_id"),
    (b'{"type": "post_call_transcription", "data": {"conversation_id": "c1", "transcript": "x"}}', 422, "transcript"),
    (b'{"type": "post_call_transcription", "event_timestamp": "yesterday", "data": {"conversation_id": "c1"}}',
     422, "event_timestamp"),
    (b'{"type": "agent_response", "data": {"conversation_id": "c1"}}', 422, "Unknown webhook type"),
    (b'{"data": {"conversation_id": "c1"}}', 422, "type"),
    (b'{"type": "post_call_audio", "data": {"conversation_id": "c1"}}', 422, "full_audio"),
    (b'{"type": "post_call_audio", "data": {"conversation_id": "c1", "full_audio": "@@@"}}', 422, "base64"),
])
def test_non_json_wrong_shapes_and_unknown_types_are_4xx_and_nothing_is_written(post_webhook, session, body,
                                                                                 status, detail):
    response = post_webhook(body)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert nothing_written(session)


def test_a_body_above_64_mb_is_413(api_client, call_env, session):
    claimed = api_client.post(WEBHOOK, content=b"{}", headers={
        "ElevenLabs-Signature": f"t={int(time.time())},v0={'a' * 64}", "Content-Length": str(64 * 1024 * 1024 + 1)})
    assert claimed.status_code == 413

    def stream():  # no Content-Length: refused while reading
        for _ in range(65):
            yield b" " * (1024 * 1024)

    streamed = api_client.post(WEBHOOK, content=stream(), headers={
        "ElevenLabs-Signature": f"t={int(time.time())},v0={'a' * 64}"})
    assert streamed.status_code == 413 and "64 MB" in streamed.json()["detail"]
    assert nothing_written(session)


# --- at least once ------------------------------------------------------------------------------------


def test_the_same_event_three_times_gives_one_record(post_webhook, session):
    from navaia_app.jobs.tasks import process_webhook_event

    doc = booking_call("conv_thrice", when=local_time(future_day(), 11))
    answers = [post_webhook(doc) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    event_id = answers[0].json()["event_id"]
    assert [process_webhook_event(event_id) for _ in range(3)] == ["processed", "skipped", "skipped"]
    assert count(session, WebhookEvent) == 1
    assert count(session, Conversation) == 1 and count(session, Booking) == 1 and count(session, Customer) == 1
    # Re-signed with a new timestamp (ElevenLabs' retry): still the same record.
    assert post_webhook(doc, timestamp=int(time.time()) - 60).json()["status"] == "duplicate"
    assert count(session, Booking) == 1


def test_the_same_conversation_with_another_type_is_another_event(post_webhook, session):
    audio = {"type": "post_call_audio", "event_timestamp": 1764151300,
             "data": {"agent_id": "a", "conversation_id": "conv_two_types",
                      "full_audio": base64.b64encode(b"ID3 fake mp3").decode()}}
    first = post_webhook(booking_call("conv_two_types", when=local_time(future_day(), 12)))
    second = post_webhook(audio)
    assert first.json()["status"] == second.json()["status"] == "accepted"
    assert count(session, WebhookEvent) == 2


# --- one event per intent -------------------------------------------------------------------------------


def test_raise_ticket_call_becomes_a_ticket(deliver, session):
    deliver(ticket_call("conv_ticket_1"))
    call = conversation(session, "conv_ticket_1")
    ticket = session.get(Ticket, call.ticket_id)
    assert (call.intent, call.outcome, call.needs_review) == ("raise_ticket", "ticket_created", False)
    assert (ticket.title, ticket.priority, ticket.category, ticket.source, ticket.conversation_id) == (
        "Duplicate charge on monthly invoice", "high", "billing", "ai_call", call.id)
    assert ticket.description.startswith("Customer was charged twice")
    customer = session.get(Customer, ticket.customer_id)
    assert customer.phone == "+442071838750"  # the line it came from; no name given
    assert count(session, Booking) == 0


def test_older_in_house_format_with_intent_at_the_top_of_data(deliver, session):
    doc = ticket_call("conv_old_format", intent=None)
    doc["data"]["intent"] = "raise_ticket"
    deliver(doc)
    assert conversation(session, "conv_old_format").outcome == "ticket_created"


@pytest.mark.parametrize(("intent", "reason"), [
    ("cancel_subscription", "Unknown intent 'cancel_subscription'"),
    (None, "collected no intent"),
])
def test_unknown_or_missing_intent_keeps_the_call_for_review(deliver, session, intent, reason):
    doc = ticket_call("conv_unknown_intent", intent=intent)
    deliver(doc)
    call = conversation(session, "conv_unknown_intent")
    assert (call.needs_review, call.outcome) == (True, "needs_review")
    assert reason in call.review_reason
    assert count(session, Ticket) == 0 and count(session, Booking) == 0
    assert call.transcript and call.summary  # the call itself is kept


@pytest.mark.parametrize(("slots", "reason"), [
    ({"appointment_datetime": None}, "appointment_datetime' is missing"),
    ({"service": None}, "slot 'service' is missing"),
    ({"appointment_datetime": "next Tuesday afternoon"}, "is not a date and time"),
    ({"appointment_datetime": "2030-01-08"}, "is not a date and time"),
    ({"duration_minutes": "a while"}, "is not a number of minutes"),
])
def test_a_missing_or_unreadable_booking_slot_sends_the_call_to_review(deliver, session, slots, reason):
    doc = booking_call("conv_missing_slot", when=local_time(future_day(), 10), **slots)
    deliver(doc)
    call = conversation(session, "conv_missing_slot")
    assert call.needs_review and reason in call.review_reason
    assert count(session, Booking) == 0


def test_a_ticket_without_summary_goes_to_review(deliver, session):
    deliver(ticket_call("conv_no_summary", issue_summary=None))
    call = conversation(session, "conv_no_summary")
    assert call.needs_review and "issue_summary" in call.review_reason and count(session, Ticket) == 0


# --- the caller -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["(415) 555-0123", "+1 415 555 0123", "415.555.0123", "+14155550123"])
def test_a_caller_is_matched_by_phone_written_differently(deliver, session, written):
    existing = add_customer(session, name="Maria L.", phone="+14155550123")
    doc = booking_call("conv_phone_match", when=local_time(future_day(), 9), phone=written,
                       customer_phone=written, customer_email=None)
    deliver(doc)
    call = conversation(session, "conv_phone_match")
    assert call.customer_id == existing.id and count(session, Customer) == 1
    assert session.get(Booking, call.booking_id).customer_id == existing.id


def test_match_by_customer_id_then_phone_then_email(deliver, session):
    by_id = add_customer(session, name="By Id", phone="+14155550101")
    by_email = add_customer(session, name="By Email", phone="+14155550102", email="maria.lopez@example.com")
    doc = ticket_call("conv_by_id")
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {"customer_id": str(by_id.id)}
    deliver(doc)
    assert conversation(session, "conv_by_id").customer_id == by_id.id

    doc = booking_call("conv_by_email", when=local_time(future_day(), 13), phone="+14155550199",
                       customer_phone=None)
    deliver(doc)
    assert conversation(session, "conv_by_email").customer_id == by_email.id
    assert count(session, Customer) == 2


def test_a_booking_call_with_no_phone_and_no_match_goes_to_review(deliver, session):
    doc = booking_call("conv_web_call", when=local_time(future_day(), 10), customer_email="nobody@example.com")
    doc["data"]["metadata"].pop("phone_call")
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {}
    deliver(doc)
    call = conversation(session, "conv_web_call")
    assert call.needs_review and "no phone number" in call.review_reason
    assert call.direction == "web" and count(session, Customer) == 0


def test_a_naive_appointment_time_is_in_the_customers_zone(deliver, session):
    customer = add_customer(session, phone="+14155550123", tz="America/New_York")
    day = future_day()
    deliver(booking_call("conv_naive_ny", when=local_time(day, 10), phone="+14155550123"))
    booking = session.get(Booking, conversation(session, "conv_naive_ny").booking_id)
    expected = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("America/New_York"))
    assert booking.customer_id == customer.id
    assert booking.starts_at == expected.astimezone(timezone.utc)


def test_a_naive_appointment_time_is_in_the_business_zone_without_a_customer_zone(deliver, session, set_env):
    set_env(BUSINESS_TIMEZONE="Europe/Paris")
    day = future_day()
    deliver(booking_call("conv_naive_paris", when=local_time(day, 10)))
    booking = session.get(Booking, conversation(session, "conv_naive_paris").booking_id)
    expected = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/Paris"))
    assert booking.starts_at == expected.astimezone(timezone.utc)


def test_an_appointment_time_with_an_offset_is_taken_as_is(deliver, session):
    customer = add_customer(session, phone="+14155550123", tz="Asia/Tokyo")
    day = future_day()
    deliver(booking_call("conv_offset", when=f"{local_time(day, 16)}+00:00", phone=customer.phone))
    booking = session.get(Booking, conversation(session, "conv_offset").booking_id)
    assert booking.starts_at == datetime(day.year, day.month, day.day, 16, tzinfo=timezone.utc)


# --- refusals from the booking rules ----------------------------------------------------------------------


def test_a_double_booking_goes_to_review_with_the_reason(deliver, session):
    when = local_time(future_day(), 14)
    deliver(booking_call("conv_first", when=when, phone="+14155550123"))
    deliver(booking_call("conv_second", when=when, phone="+14155550124", customer_phone="+14155550124",
                         customer_email="other@example.com", customer_name="Other Person"))
    second = conversation(session, "conv_second")
    assert second.needs_review and second.review_reason.startswith("The booking was refused: ")
    assert "overlaps another booking" in second.review_reason
    assert count(session, Booking) == 1
    assert second.customer_id is not None  # the caller is known even though the booking was refused


def test_a_booking_outside_opening_hours_goes_to_review(deliver, session, set_env):
    set_env(BUSINESS_HOURS="mon-fri 09:00-17:00")
    deliver(booking_call("conv_late", when=local_time(future_day(weekday=2), 21)))
    call = conversation(session, "conv_late")
    assert call.needs_review and "outside opening hours" in call.review_reason
    assert count(session, Booking) == 0


def test_a_booking_in_the_past_goes_to_review(deliver, session):
    deliver(sample("post_call_book_appointment"))  # the contract's sample: 2025-12-02, long gone
    call = conversation(session, "conv_01JBOOKSAMPLE0001")
    assert call.needs_review and "in the past" in call.review_reason


# --- campaigns ---------------------------------------------------------------------------------------


def _campaign_call(session, customer, provider_call_id=None, max_attempts=1) -> CampaignCall:
    campaign = Campaign(name="Reminders", status="running", max_attempts=max_attempts)
    session.add(campaign)
    session.flush()
    call = CampaignCall(campaign_id=campaign.id, customer_id=customer.id, status="ringing",
                        provider_call_id=provider_call_id, attempts=1)
    session.add(call)
    session.commit()
    return call


def test_call_initiation_failure_is_recorded_on_the_campaign_call_by_call_sid(deliver, session):
    customer = add_customer(session, phone="+14155550199")
    call = _campaign_call(session, customer, provider_call_id="CA9999888877776666555544443333aaaa")
    deliver(sample("call_initiation_failure"))
    session.expire_all()
    call = session.get(CampaignCall, call.id)
    assert (call.status, call.last_outcome) == ("no_answer", "no_answer")
    record = conversation(session, "conv_01JFAILSAMPLE00001")
    assert (record.outcome, record.status, record.customer_id, record.campaign_call_id) == (
        "not_connected", "failed", customer.id, call.id)
    assert call.conversation_id == record.id


def test_call_initiation_failure_lets_the_campaign_retry_policy_apply(deliver, session):
    customer = add_customer(session, phone="+14155550199")
    call = _campaign_call(session, customer, provider_call_id="CA9999888877776666555544443333aaaa", max_attempts=3)
    deliver(sample("call_initiation_failure"))
    session.expire_all()
    call = session.get(CampaignCall, call.id)
    assert call.last_outcome == "no_answer"
    assert call.status not in ("no_answer", "completed") and call.next_attempt_at is not None  # tried again later


@pytest.mark.parametrize(("reason", "status"), [("busy", "busy"), ("no-answer", "no_answer"), ("failed", "failed"),
                                                ("something-new", "failed")])
def test_call_initiation_failure_by_campaign_call_variable(deliver, session, reason, status):
    customer = add_customer(session, phone="+14155550199")
    call = _campaign_call(session, customer)
    doc = sample("call_initiation_failure")
    doc["data"]["failure_reason"] = reason
    doc["data"]["metadata"] = {"type": "sip", "body": {}}
    doc["data"]["conversation_initiation_client_data"] = {"dynamic_variables": {"campaign_call_id": str(call.id)}}
    deliver(doc)
    session.expire_all()
    assert session.get(CampaignCall, call.id).status == status


def test_a_post_call_from_a_campaign_links_the_campaign_call(deliver, session):
    customer = add_customer(session, phone="+442071838750")
    call = _campaign_call(session, customer)
    doc = ticket_call("conv_campaign")
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {
        "customer_id": str(customer.id), "campaign_id": str(call.campaign_id), "campaign_call_id": str(call.id)}
    deliver(doc)
    session.expire_all()
    record = conversation(session, "conv_campaign")
    call = session.get(CampaignCall, call.id)
    assert (call.status, call.conversation_id, call.duration_seconds) == ("completed", record.id, 41)
    assert record.campaign_call_id == call.id and record.customer_id == customer.id


# --- recordings -------------------------------------------------------------------------------------------


def _audio_event(conversation_id: str, audio: bytes) -> dict:
    return {"type": "post_call_audio", "event_timestamp": 1764151300,
            "data": {"agent_id": "agent_7d1f0c2a9b", "conversation_id": conversation_id,
                     "full_audio": base64.b64encode(audio).decode()}}


@pytest.mark.parametrize("audio_first", [True, False])
def test_post_call_audio_is_kept_and_played_to_signed_in_users_only(deliver, api_client, auth_headers, session,
                                                                    audio_first):
    audio = b"ID3\x03\x00\x00\x00" + bytes(range(256)) * 40
    events = [_audio_event("conv_audio", audio), ticket_call("conv_audio")]
    for doc in (events if audio_first else events[::-1]):
        deliver(doc)
    call = conversation(session, "conv_audio")
    assert call.audio_path and call.audio_path.endswith(".mp3")
    stored = session.exec(select(WebhookEvent).where(WebhookEvent.event_type == "post_call_audio")).one()
    assert "\"full_audio\"" not in stored.payload and len(stored.payload) < 1000  # not inline in the database

    url = f"/api/v1/conversations/{call.id}/audio"
    assert api_client.get(url).status_code == 401
    played = api_client.get(url, headers=auth_headers)
    assert played.status_code == 200 and played.content == audio
    assert played.headers["content-type"] == "audio/mpeg"
    ranged = api_client.get(url, headers={**auth_headers, "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == audio[:10]
    listed = api_client.get(f"/api/v1/conversations/{call.id}", headers=auth_headers).json()
    assert listed["has_audio"] is True


def test_an_hour_long_recording_fits(post_webhook, session, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the size limit is the web layer's; once is enough")
    audio = b"\xff\xfb" * (15 * 1024 * 1024)  # 30 MB of MP3 frames -> 40 MB of base64
    response = post_webhook(_audio_event("conv_long_audio", audio))
    assert response.status_code == 200, response.text
    event = session.get(WebhookEvent, response.json()["event_id"])
    from navaia_app.conversations.webhook import audio_path

    assert audio_path(event.media_path).stat().st_size == len(audio)


# --- failures ----------------------------------------------------------------------------------------------


def test_a_failing_event_is_retried_then_marked_failed_and_can_be_run_again(post_webhook, session):
    from navaia_app.conversations import service
    from navaia_app.jobs.tasks import process_webhook_event

    event_id = post_webhook(ticket_call("conv_broken")).json()["event_id"]
    session.exec(WebhookEvent.__table__.update().where(WebhookEvent.id == event_id).values(payload="{broken"))
    session.commit()
    for attempt in range(1, service.MAX_ATTEMPTS):
        with pytest.raises(ValueError):
            process_webhook_event(event_id)
        session.expire_all()
        event = session.get(WebhookEvent, event_id)
        assert (event.status, event.attempts) == ("pending", attempt)
    assert process_webhook_event(event_id) == "failed"  # the last try: no exception, RQ stops retrying
    session.expire_all()
    event = session.get(WebhookEvent, event_id)
    assert event.status == "failed" and "JSONDecodeError" in event.last_error
    items, total = service.list_inbox_events(session=session, status="failed")
    assert total == 1 and items[0].id == event_id

    session.exec(WebhookEvent.__table__.update().where(WebhookEvent.id == event_id)
                 .values(payload=json.dumps(ticket_call("conv_broken"))))
    session.commit()
    service.retry_inbox_event(session=session, event_id=event_id)
    session.commit()
    assert process_webhook_event(event_id) == "processed"
    assert conversation(session, "conv_broken").outcome == "ticket_created"
