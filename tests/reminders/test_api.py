"""Reminders through HTTP: the settings and a booking's reminders (REST), the agent's tools on a reminder
call, and Twilio's inbound SMS and delivery callbacks (signed, form-encoded)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select
from twilio.request_validator import RequestValidator

from navaia_app.bookings.models import Booking
from navaia_app.outreach import calls
from navaia_app.outreach.models import CampaignCall
from navaia_app.core.db import session_scope
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.reminders import sender
from navaia_app.reminders.models import BookingReminder, SmsMessage
from tests.reminders.conftest import DEAD_REDIS

AUTH_TOKEN = "test-auth-token-0123456789"
PUBLIC = "https://navaia.example.com"
TOOLS = {"X-Agent-Tools-Secret": "tools-secret-for-tests"}


def _next_weekday_at(hour: int) -> datetime:
    """A weekday at `hour`:00 UTC, two days or more from now (inside the default opening hours)."""
    day = (utcnow() + timedelta(days=2)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.utc)


def _setup(set_env):
    set_env(REDIS_URL=DEAD_REDIS, TELEPHONY_PROVIDER="simulated", SMS_PROVIDER="simulated",
            AGENT_TOOLS_SECRET=TOOLS["X-Agent-Tools-Secret"], TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PUBLIC)


def _customer(phone="+14155550123", **fields) -> int:
    with session_scope() as session:
        row = Customer(name="Grace Hopper", phone=phone, timezone="America/New_York", **fields)
        session.add(row)
        session.flush()
        return row.id


def test_settings_get_put_partial_validation_and_roles(api_client, auth_headers, make_user, login, set_env):
    _setup(set_env)
    got = api_client.get("/api/v1/settings/reminders", headers=auth_headers)
    assert got.status_code == 200
    assert got.json()["enabled"] is False and got.json()["call_lead_minutes"] == 1440 \
        and got.json()["sms_lead_minutes"] == 120 and got.json()["sms_fallback"] is True
    put = api_client.put("/api/v1/settings/reminders", headers=auth_headers,
                         json={"enabled": True, "sms_lead_minutes": 90})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["enabled"] is True and body["sms_lead_minutes"] == 90 and body["call_lead_minutes"] == 1440
    off = api_client.put("/api/v1/settings/reminders", headers=auth_headers, json={"call_lead_minutes": None})
    assert off.json()["call_lead_minutes"] is None and off.json()["sms_lead_minutes"] == 90
    for bad in ({"call_lead_minutes": 10_081}, {"sms_lead_minutes": -1}, {"enabled": "maybe"},
                {"channel_order": ["fax"]}, {"window_start": "25:00"}, {"sms_template": "Hi {nobody}"},
                {"surprise": 1}):
        answer = api_client.put("/api/v1/settings/reminders", headers=auth_headers, json=bad)
        assert answer.status_code == 422 and answer.json()["detail"], (bad, answer.text)
    assert api_client.get("/api/v1/settings/reminders", headers=auth_headers).json()["sms_lead_minutes"] == 90

    agent = make_user(email="agent@example.com", role="agent")
    agent_headers = login(agent.email)
    assert api_client.get("/api/v1/settings/reminders", headers=agent_headers).status_code == 200
    refused = api_client.put("/api/v1/settings/reminders", headers=agent_headers, json={"enabled": False})
    assert refused.status_code == 403
    assert api_client.get("/api/v1/settings/reminders").status_code == 401


def test_booking_reminders_listed_from_the_moment_they_are_planned(api_client, auth_headers, set_env):
    _setup(set_env)
    api_client.put("/api/v1/settings/reminders", headers=auth_headers, json={"enabled": True})
    customer_id = _customer()
    starts = _next_weekday_at(15)
    created = api_client.post("/api/v1/bookings", headers=auth_headers,
                              json={"customer_id": customer_id, "service": "Check-up",
                                    "starts_at": starts.isoformat()})
    assert created.status_code == 201, created.text
    booking_id = created.json()["id"]
    listed = api_client.get(f"/api/v1/bookings/{booking_id}/reminders", headers=auth_headers)
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 2
    call, sms = page["items"]
    assert set(call) >= {"id", "channel", "status", "due_at", "sent_at", "result"}
    assert (call["channel"], call["status"], call["sent_at"], call["result"]) == ("call", "planned", None, None)
    assert datetime.fromisoformat(call["due_at"]) == starts - timedelta(hours=24)
    assert (sms["channel"], sms["status"]) == ("sms", "held")
    assert api_client.get("/api/v1/bookings/999999/reminders", headers=auth_headers).status_code == 404
    assert api_client.get(f"/api/v1/bookings/{booking_id}/reminders").status_code == 401


def _reminder_call(api_client, auth_headers) -> tuple[int, str]:
    """A booking whose reminder call is placed now; returns the booking id and the call's token."""
    api_client.put("/api/v1/settings/reminders", headers=auth_headers,
                   json={"enabled": True, "window_start": "00:00", "window_end": "23:59"})
    customer_id = _customer()
    starts = _next_weekday_at(15)
    booking_id = api_client.post("/api/v1/bookings", headers=auth_headers, json={
        "customer_id": customer_id, "service": "Check-up", "starts_at": starts.isoformat()}).json()["id"]
    with session_scope() as session:
        reminder = session.exec(select(BookingReminder).where(BookingReminder.booking_id == booking_id,
                                                              BookingReminder.channel == "call")).one()
        due = reminder.due_at
    sender.run(due)
    with session_scope() as session:
        reminder = session.exec(select(BookingReminder).where(BookingReminder.booking_id == booking_id,
                                                              BookingReminder.channel == "call")).one()
        call = session.get(CampaignCall, reminder.outbound_call_id)
        token = calls.call_variables(session=session, call=call,
                                     customer=session.get(Customer, call.customer_id))["call_token"]
    return booking_id, token


def test_confirm_tool_over_http_needs_the_secret_and_the_token(api_client, auth_headers, set_env):
    _setup(set_env)
    booking_id, token = _reminder_call(api_client, auth_headers)
    assert api_client.post("/api/tools/confirm-booking", json={"call_token": token}).status_code == 401
    assert api_client.post("/api/tools/confirm-booking", headers=TOOLS, json={}).status_code == 403
    forged = api_client.post("/api/tools/confirm-booking", headers=TOOLS, json={"call_token": token[:-2] + "xx"})
    assert forged.status_code == 403
    ok = api_client.post("/api/tools/confirm-booking", headers=TOOLS,
                         json={"call_token": token, "booking_id": 12345})  # an id the model said is ignored
    assert ok.status_code == 200 and ok.json()["confirmed"] is True and ok.json()["booking_id"] == booking_id
    booking = api_client.get(f"/api/v1/bookings/{booking_id}", headers=auth_headers).json()
    assert booking["status"] == "confirmed"
    items = api_client.get(f"/api/v1/bookings/{booking_id}/reminders", headers=auth_headers).json()["items"]
    assert (items[0]["status"], items[0]["result"]) == ("answered", "confirmed")
    timeline = api_client.get(f"/api/v1/bookings/{booking_id}/activity", headers=auth_headers).json()
    assert any(e["kind"] == "reminder" and "by phone" in e["body"] for e in timeline)


def test_reschedule_and_cancel_tools_over_http(api_client, auth_headers, set_env):
    _setup(set_env)
    booking_id, token = _reminder_call(api_client, auth_headers)
    offer = api_client.post("/api/tools/reschedule-booking", headers=TOOLS, json={"call_token": token})
    assert offer.status_code == 200 and offer.json()["slots"]
    target = offer.json()["slots"][0]
    moved = api_client.post("/api/tools/reschedule-booking", headers=TOOLS,
                            json={"call_token": token, "appointment_datetime": target})
    assert moved.status_code == 200 and moved.json()["rescheduled"] is True, moved.text
    booking = api_client.get(f"/api/v1/bookings/{booking_id}", headers=auth_headers).json()
    assert datetime.fromisoformat(booking["starts_at"]) == datetime.fromisoformat(target)
    bad = api_client.post("/api/tools/reschedule-booking", headers=TOOLS,
                          json={"call_token": token, "appointment_datetime": "next-ish"})
    assert bad.status_code == 422
    cancelled = api_client.post("/api/tools/cancel-booking", headers=TOOLS,
                                json={"call_token": token, "reason": "moving away"})
    assert cancelled.status_code == 200 and cancelled.json()["cancelled"] is True
    assert api_client.get(f"/api/v1/bookings/{booking_id}", headers=auth_headers).json()["status"] == "cancelled"


def _signed(client, path: str, params: dict[str, str], *, tamper: bool = False):
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)
    sent = {**params, "Body": "YES"} if tamper else params
    return client.post(path, data=sent, headers={"X-Twilio-Signature": signature})


def test_inbound_sms_is_signed_idempotent_and_answered_by_sms(api_client, auth_headers, set_env):
    _setup(set_env)
    api_client.put("/api/v1/settings/reminders", headers=auth_headers, json={"enabled": True})
    customer_id = _customer()
    booking_id = api_client.post("/api/v1/bookings", headers=auth_headers, json={
        "customer_id": customer_id, "service": "Check-up",
        "starts_at": _next_weekday_at(15).isoformat()}).json()["id"]
    params = {"MessageSid": "SM" + "a" * 32, "From": "+14155550123", "To": "+12125550100", "Body": "2",
              "AccountSid": "AC" + "1" * 32, "NumMedia": "0"}
    assert api_client.post("/api/webhooks/twilio/sms", data=params).status_code == 403
    assert _signed(api_client, "/api/webhooks/twilio/sms", params, tamper=True).status_code == 403
    with session_scope() as session:
        assert session.exec(select(SmsMessage)).all() == []
    first = _signed(api_client, "/api/webhooks/twilio/sms", params)
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/xml")
    assert "<Message>" in first.text and "cancelled" in first.text
    again = _signed(api_client, "/api/webhooks/twilio/sms", params)
    assert again.status_code == 200 and again.text == first.text
    with session_scope() as session:
        assert session.get(Booking, booking_id).status == "cancelled"
        assert len(session.exec(select(SmsMessage).where(SmsMessage.direction == "in")).all()) == 1
    missing = _signed(api_client, "/api/webhooks/twilio/sms", {"From": "+14155550123", "Body": "hi"})
    assert missing.status_code == 400


def test_inbound_sms_refused_without_a_twilio_token(api_client, set_env):
    _setup(set_env)
    set_env(TWILIO_AUTH_TOKEN="")
    answer = api_client.post("/api/webhooks/twilio/sms", data={"MessageSid": "SM1", "From": "+14155550123"})
    assert answer.status_code == 403


def test_delivery_report_failure_hands_over_to_the_next_channel(api_client, auth_headers, set_env):
    _setup(set_env)
    api_client.put("/api/v1/settings/reminders", headers=auth_headers, json={
        "enabled": True, "channel_order": ["sms", "call"], "window_start": "00:00", "window_end": "23:59"})
    customer_id = _customer()
    booking_id = api_client.post("/api/v1/bookings", headers=auth_headers, json={
        "customer_id": customer_id, "service": "Check-up",
        "starts_at": _next_weekday_at(15).isoformat()}).json()["id"]
    with session_scope() as session:
        sms = session.exec(select(BookingReminder).where(BookingReminder.booking_id == booking_id,
                                                         BookingReminder.channel == "sms")).one()
        due = sms.due_at
    sender.run(due)
    with session_scope() as session:
        sid = session.get(BookingReminder, sms.id).provider_ref
    report = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003",
              "AccountSid": "AC" + "1" * 32}
    path = "/api/webhooks/twilio/sms-status?reminder=x"
    assert api_client.post(path, data=report).status_code == 403
    assert _signed(api_client, path, report).status_code == 200
    items = api_client.get(f"/api/v1/bookings/{booking_id}/reminders", headers=auth_headers).json()["items"]
    by_channel = {i["channel"]: i for i in items if i["status"] != "cancelled"}
    assert (by_channel["sms"]["status"], by_channel["sms"]["result"]) == ("unreachable", "undelivered")
    assert by_channel["call"]["status"] == "planned"
