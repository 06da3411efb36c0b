"""Reminders on both databases with a controllable clock: planning with every booking change, quiet hours,
lead windows, fallback, the agent's tools on the call, SMS replies, STOP/START, unknown senders."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from navaia_app.bookings import service as bookings
from navaia_app.bookings.models import Booking
from navaia_app.outreach import calls
from navaia_app.outreach.models import CampaignCall
from navaia_app.activity.models import ActivityEntry
from navaia_app.core.call_tokens import read_call_token
from navaia_app.core.errors import PermissionDenied, ValidationFailed
from navaia_app.customers.models import Customer
from navaia_app.reminders import agent_tools, planning, sender, service
from navaia_app.reminders.models import BookingReminder, SmsMessage
from navaia_app.tickets.models import Ticket
from tests.reminders.conftest import NOW, TOMORROW_1030, UTC, book


def rows(session, booking_id) -> list[BookingReminder]:
    session.expire_all()
    return list(session.exec(select(BookingReminder).where(BookingReminder.booking_id == booking_id)
                             .order_by(BookingReminder.id)))


def live(session, booking_id) -> list[tuple[str, str, datetime | None]]:
    return [(r.channel, r.status, r.due_at) for r in rows(session, booking_id) if r.status != "cancelled"]


def timeline(session, booking_id) -> list[ActivityEntry]:
    session.expire_all()
    return list(session.exec(select(ActivityEntry).where(ActivityEntry.subject_type == "booking",
                                                         ActivityEntry.subject_id == booking_id)
                             .order_by(ActivityEntry.id)))


def variables_of(session, reminder: BookingReminder) -> dict[str, str]:
    """The dynamic variables the pipeline gives the agent when it dials this reminder's call."""
    session.expire_all()
    call = session.get(CampaignCall, reminder.outbound_call_id)
    return calls.call_variables(session=session, call=call, customer=session.get(Customer, call.customer_id))


def token_of(session, reminder: BookingReminder) -> str:
    return variables_of(session, reminder)["call_token"]


# --- planning -------------------------------------------------------------------------------------------


def test_reminders_off_plan_nothing(session, customer, admin):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    assert rows(session, booking.id) == []


def test_booking_tomorrow_gets_a_call_24h_before_and_a_held_text(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    assert live(session, booking.id) == [
        ("call", "planned", TOMORROW_1030 - timedelta(hours=24)),
        ("sms", "held", TOMORROW_1030 - timedelta(hours=2)),  # only if the call reaches nobody
    ]


def test_without_fallback_both_channels_go_at_their_own_time(session, customer, reminders_on):
    reminders_on(sms_fallback=False)
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    assert [(c, s) for c, s, _ in live(session, booking.id)] == [("call", "planned"), ("sms", "planned")]


def test_quiet_hours_in_the_customers_zone_move_the_reminder_to_the_evening_before(session, customer, reminders_on):
    # Thursday 08:15 UTC = 09:15 in Paris; a text 2 h before would be 07:15 Paris: quiet. It goes 19:59 the
    # evening before (Paris), the last allowed minute.
    reminders_on(call_lead_minutes=None)
    starts = datetime(2026, 12, 3, 8, 15, tzinfo=UTC)
    booking = book(session, customer, starts, now=NOW, enforce_schedule=False)
    [(channel, status, due)] = live(session, booking.id)
    assert (channel, status) == ("sms", "planned")
    assert due == datetime(2026, 12, 2, 18, 59, tzinfo=UTC)  # 19:59 in Paris (UTC+1)


def test_booking_30_minutes_ahead_is_reminded_at_once_and_the_timeline_says_so(session, customer, reminders_on):
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    booking = book(session, customer, now + timedelta(minutes=30), now=now)
    assert live(session, booking.id) == [("call", "planned", now), ("sms", "held", now)]
    notes = [e.body for e in timeline(session, booking.id) if e.kind == "reminder"]
    assert notes and "at once" in notes[0] and "24 h lead time" in notes[0]


def test_booking_10_minutes_ahead_gets_none_and_the_timeline_says_why(session, customer, reminders_on):
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    booking = book(session, customer, now + timedelta(minutes=10), now=now, enforce_schedule=False)
    assert live(session, booking.id) == []
    [note] = [e.body for e in timeline(session, booking.id) if e.kind == "reminder"]
    assert "under 15 minutes" in note


def test_a_moved_booking_cancels_its_old_reminders_and_gets_new_ones(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    old = rows(session, booking.id)
    new_start = TOMORROW_1030 + timedelta(days=1, hours=2)  # Friday 12:30
    bookings.reschedule_booking(session=session, booking_id=booking.id, starts_at=new_start, now=NOW)
    session.commit()
    after = rows(session, booking.id)
    assert {r.id: r.status for r in after if r.id in {o.id for o in old}} == {old[0].id: "cancelled",
                                                                             old[1].id: "cancelled"}
    assert "moved" in after[0].detail
    assert live(session, booking.id) == [("call", "planned", new_start - timedelta(hours=24)),
                                         ("sms", "held", new_start - timedelta(hours=2))]


def test_cancelled_booking_has_no_reminders_and_a_deleted_one_takes_them_along(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    bookings.change_booking_status(session=session, booking_id=booking.id, status="cancelled", now=NOW)
    session.commit()
    assert live(session, booking.id) == []
    other = book(session, customer, TOMORROW_1030 + timedelta(hours=3), now=NOW)
    bookings.delete_booking(session=session, booking_id=other.id)
    session.commit()
    assert rows(session, other.id) == []


def test_status_change_keeps_the_same_plan(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    before = [(r.id, r.status) for r in rows(session, booking.id)]
    bookings.change_booking_status(session=session, booking_id=booking.id, status="confirmed", now=NOW)
    session.commit()
    assert [(r.id, r.status) for r in rows(session, booking.id)] == before


def test_do_not_call_skips_the_call_and_the_text_moves_up(session, customer, reminders_on):
    customer.do_not_call = True
    session.add(customer)
    session.commit()
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    got = live(session, booking.id)
    assert got[0][:2] == ("call", "skipped") and got[1] == ("sms", "planned", TOMORROW_1030 - timedelta(hours=2))


def test_a_service_left_out_gets_no_reminders(session, customer, reminders_on):
    reminders_on(excluded_services=["Flu shot"])
    booking = book(session, customer, TOMORROW_1030, now=NOW, service="flu shot")
    assert live(session, booking.id) == []


def test_turning_reminders_on_plans_every_upcoming_booking(session, customer, admin):
    first = book(session, customer, TOMORROW_1030, now=NOW)
    second = book(session, customer, TOMORROW_1030 + timedelta(days=1), now=NOW)
    service.update_reminder_settings(session=session, actor=admin, changes={"enabled": True}, now=NOW)
    session.commit()
    assert len(live(session, first.id)) == 2 and len(live(session, second.id)) == 2
    service.update_reminder_settings(session=session, actor=admin, changes={"enabled": False}, now=NOW)
    session.commit()
    assert live(session, first.id) == [] and live(session, second.id) == []


def test_settings_are_validated_and_admin_only(session, admin, make_user):
    agent = make_user(email="agent@example.com", role="agent")
    with pytest.raises(PermissionDenied):
        service.update_reminder_settings(session=session, actor=agent, changes={"enabled": True})
    for changes, field in (({"call_lead_minutes": 10_081}, "call_lead_minutes"),
                           ({"window_start": "9am"}, "window_start"),
                           ({"channel_order": ["call", "call"]}, "channel_order"),
                           ({"sms_template": "Hi {name}"}, "sms_template"),
                           ({"window_start": "10:00", "window_end": "10:00"}, "window_end")):
        with pytest.raises(ValidationFailed) as err:
            service.update_reminder_settings(session=session, actor=admin, changes=changes)
        assert err.value.field == field
        session.rollback()
    assert service.get_reminder_settings(session=session).enabled is False


# --- the call ---------------------------------------------------------------------------------------------


def test_tomorrow_call_due_then_confirm_tool_confirms(session, customer, reminders_on, clock):
    booking = book(session, customer, TOMORROW_1030, now=clock())
    assert sender.run(clock.advance(hours=2))["call"] == 0 if False else True  # nothing due before 10:30
    session.expire_all()
    assert rows(session, booking.id)[0].status == "planned"
    result = sender.run(datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    assert result.get("call") == 1
    call_reminder, sms_reminder = rows(session, booking.id)
    assert call_reminder.status == "sent" and call_reminder.idempotency_key
    call = session.get(CampaignCall, call_reminder.outbound_call_id)
    assert call.campaign_id is None and call.customer_id == customer.id and call.status == "pending"
    assert (call.purpose, call.reference) == ("reminder", f"booking:{booking.id}")
    variables = variables_of(session, call_reminder)
    assert variables["customer_name"] == "Ada Lovelace" and variables["service"] == "Consultation"
    assert variables["start_time"] == "Thursday 3 December at 11:30"  # Paris
    assert variables["business_name"]
    assert variables["opening_line"].startswith("Hello Ada Lovelace")
    claims = read_call_token(variables["call_token"])
    assert (claims["customer_id"], claims["booking_id"], claims["reminder_id"], claims["purpose"]) == (
        customer.id, booking.id, call_reminder.id, "reminder")
    # a second run sends nothing again
    assert sender.run(datetime(2026, 12, 2, 10, 31, tzinfo=UTC)).get("call") is None

    answer = agent_tools.confirm_booking(session=session, call_token=variables["call_token"],
                                         now=datetime(2026, 12, 2, 10, 32, tzinfo=UTC))
    session.commit()
    assert answer["confirmed"] is True and "confirmed" in answer["message"]
    session.expire_all()
    assert session.get(Booking, booking.id).status == "confirmed"
    call_reminder, sms_reminder = rows(session, booking.id)
    assert (call_reminder.status, call_reminder.result) == ("answered", "confirmed")
    assert sms_reminder.status == "cancelled"  # the customer already answered
    entry = [e for e in timeline(session, booking.id) if e.kind == "reminder"][-1]
    assert (entry.from_value, entry.to_value) == ("call", "confirmed") and "by phone" in entry.body
    # the call ends: the reminder keeps its answer
    session.expire_all()
    call = session.get(CampaignCall, call_reminder.outbound_call_id)
    call.status = "in_progress"
    session.add(call)
    session.commit()
    calls.record_call_outcome(session=session, outcome="completed", campaign_call_id=call.id, duration_seconds=40)
    session.commit()
    sender.run(datetime(2026, 12, 2, 10, 40, tzinfo=UTC))
    assert rows(session, booking.id)[0].result == "confirmed"


def test_the_tools_act_only_on_the_booking_the_token_names(session, customer, reminders_on):
    with pytest.raises(PermissionDenied):
        agent_tools.confirm_booking(session=session, call_token="forged.token")
    with pytest.raises(PermissionDenied):
        agent_tools.confirm_booking(session=session, call_token=None)
    from navaia_app.core.call_tokens import issue_call_token

    with pytest.raises(PermissionDenied):  # a campaign call's token names no booking
        agent_tools.cancel_booking(session=session, call_token=issue_call_token({"customer_id": customer.id}))


def test_voicemail_falls_back_to_a_text(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    at = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    sender.run(at)
    call_reminder = rows(session, booking.id)[0]
    call = session.get(CampaignCall, call_reminder.outbound_call_id)
    call.status = "ringing"  # the dispatcher placed it
    session.add(call)
    session.commit()
    calls.record_call_outcome(session=session, outcome="voicemail", campaign_call_id=call.id,
                              detail="answering machine detected")
    session.commit()
    assert [r.status for r in rows(session, booking.id)] == ["unreachable", "planned"]  # settled by the pipeline
    later = at + timedelta(minutes=2)
    counts = sender.run(later)
    assert counts.get("sent") == 1
    call_reminder, sms_reminder = rows(session, booking.id)
    assert (call_reminder.status, call_reminder.result) == ("unreachable", "voicemail")
    assert sms_reminder.status == "sent" and sms_reminder.result == "delivered" and sms_reminder.sent_at == later
    [message] = session.exec(select(SmsMessage).where(SmsMessage.direction == "out")).all()
    assert message.provider_sid and message.phone == "+33612345678"
    assert "Consultation" in message.body and "Thursday 3 December at 11:30" in message.body


def test_a_do_not_call_customer_set_after_planning_is_texted_instead(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    customer.do_not_call = True
    session.add(customer)
    session.commit()
    sender.run(datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    call_reminder, sms_reminder = rows(session, booking.id)
    assert call_reminder.status == "skipped" and "do not call" in call_reminder.detail
    assert sms_reminder.status == "sent"
    assert session.exec(select(CampaignCall)).all() == []


def test_reschedule_tool_offers_slots_moves_to_a_free_one_and_refuses_a_taken_one(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    other = session.exec(select(Customer)).first()
    taken = book(session, other, TOMORROW_1030 + timedelta(hours=3), now=NOW, service="Other")  # 13:30 UTC
    at = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    sender.run(at)
    token = token_of(session, rows(session, booking.id)[0])

    offer = agent_tools.reschedule_booking(session=session, call_token=token, now=at)
    assert offer["rescheduled"] is False and offer["slots"]
    assert "2026-12-03T14:30:00+01:00" not in offer["slots"]  # 13:30 UTC is taken

    refused = agent_tools.reschedule_booking(session=session, call_token=token,
                                             appointment_datetime="2026-12-03T14:30:00+01:00", now=at)
    session.commit()
    assert refused["rescheduled"] is False and "overlaps" in refused["message"] and refused["slots"]
    session.expire_all()
    assert session.get(Booking, booking.id).starts_at == TOMORROW_1030  # unchanged

    moved = agent_tools.reschedule_booking(session=session, call_token=token,
                                           appointment_datetime="2026-12-03T16:00:00+01:00", now=at)
    session.commit()
    assert moved["rescheduled"] is True
    session.expire_all()
    assert session.get(Booking, booking.id).starts_at == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    # the old slot is free again
    assert TOMORROW_1030 in bookings.free_slots(session=session, start=TOMORROW_1030,
                                                 end=TOMORROW_1030 + timedelta(hours=1), now=at)
    answered = rows(session, booking.id)[0]
    assert (answered.status, answered.result) == ("answered", "rescheduled")
    assert session.get(Booking, taken.id).starts_at == TOMORROW_1030 + timedelta(hours=3)


def test_cancel_tool_cancels_with_the_reason(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    at = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    sender.run(at)
    token = token_of(session, rows(session, booking.id)[0])
    answer = agent_tools.cancel_booking(session=session, call_token=token, reason="I have the flu", now=at)
    session.commit()
    assert answer["cancelled"] is True
    session.expire_all()
    assert session.get(Booking, booking.id).status == "cancelled"
    entry = [e for e in timeline(session, booking.id) if e.kind == "reminder"][-1]
    assert entry.to_value == "cancelled" and "I have the flu" in entry.body
    again = agent_tools.cancel_booking(session=session, call_token=token, reason="again", now=at)
    assert again["cancelled"] is False and "already cancelled" in again["message"]


# --- SMS replies -----------------------------------------------------------------------------------------


def _sms(session, sid, phone, body, now):
    message, reply = service.handle_inbound_sms(session=session, message_sid=sid, from_phone=phone, body=body,
                                                now=now)
    session.commit()
    return message, reply


def test_sms_2_cancels_and_a_repeated_delivery_changes_nothing(session, customer, reminders_on):
    reminders_on(call_lead_minutes=None)
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    at = TOMORROW_1030 - timedelta(hours=2)
    sender.run(at)
    message, reply = _sms(session, "SM1", "+33 6 12 34 56 78", " 2 ", at + timedelta(minutes=5))
    assert message.action == "cancelled" and "cancelled" in reply
    session.expire_all()
    assert session.get(Booking, booking.id).status == "cancelled"
    assert (rows(session, booking.id)[0].status, rows(session, booking.id)[0].result) == ("answered", "cancelled")
    again, same_reply = _sms(session, "SM1", "+33612345678", "2", at + timedelta(minutes=6))
    assert again.id == message.id and same_reply == reply
    assert len(session.exec(select(SmsMessage).where(SmsMessage.direction == "in")).all()) == 1


def test_sms_yes_confirms_the_next_reminded_booking(session, customer, reminders_on):
    reminders_on(call_lead_minutes=None)
    later = book(session, customer, TOMORROW_1030 + timedelta(days=1), now=NOW)
    first = book(session, customer, TOMORROW_1030, now=NOW)
    _message, reply = _sms(session, "SM2", "+33612345678", "Yes!", NOW + timedelta(hours=1))
    assert "confirmed" in reply
    session.expire_all()
    assert session.get(Booking, first.id).status == "confirmed"
    assert session.get(Booking, later.id).status == "pending"


def test_stop_opts_out_of_texts_and_start_back_in(session, customer, reminders_on):
    reminders_on(call_lead_minutes=None)
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    message, reply = _sms(session, "SM3", "+33612345678", "STOP", NOW)
    assert message.action == "stop" and reply is None  # the carrier confirms STOP itself
    session.expire_all()
    assert session.get(Customer, customer.id).sms_opt_out is True
    sender.run(TOMORROW_1030 - timedelta(hours=2))
    [reminder] = rows(session, booking.id)
    assert reminder.status == "skipped" and "opted out of text messages" in reminder.detail
    _sms(session, "SM4", "+33612345678", "start", NOW)
    session.expire_all()
    assert session.get(Customer, customer.id).sms_opt_out is False


def test_anything_else_becomes_a_ticket_with_the_text_and_the_booking(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    message, reply = _sms(session, "SM5", "+33612345678", "Can I bring my dog?", NOW)
    ticket = session.get(Ticket, message.ticket_id)
    assert message.action == "ticket" and reply
    assert "Can I bring my dog?" in ticket.description and f"booking={booking.id}" in ticket.description
    assert ticket.customer_id == customer.id and ticket.category == "sms"


def test_a_reply_from_an_unknown_number_becomes_a_ticket(session, customer, reminders_on):
    book(session, customer, TOMORROW_1030, now=NOW)
    message, _reply = _sms(session, "SM6", "+14155550199", "YES", NOW)
    ticket = session.get(Ticket, message.ticket_id)
    assert message.customer_id is None and "unknown number" in ticket.title and "YES" in ticket.description
    assert session.exec(select(Booking.status)).all() == ["pending"]


def test_preview_uses_a_real_bookings_values(session, customer, reminders_on):
    reminders_on(business_name="Clinique Lumière")
    book(session, customer, TOMORROW_1030, now=NOW)
    shown = service.preview(session=session, now=NOW)
    assert shown["sms"].startswith("Hi Ada Lovelace, this is Clinique Lumière")
    assert "Thursday 3 December at 11:30" in shown["call_opening"]


def test_dashboard_figures(session, customer, reminders_on):
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    _sms(session, "SM7", "+33612345678", "c", NOW)
    figures = service.reminder_counts(session=session, since=NOW - timedelta(days=30), now=NOW + timedelta(hours=1))
    assert figures["confirmed_by_reminder"] == 1
    assert figures["no_show_rate"] is None
    bookings.change_booking_status(session=session, booking_id=booking.id, status="no_show",
                                   now=TOMORROW_1030 + timedelta(hours=1))
    session.commit()
    figures = service.reminder_counts(session=session, since=NOW - timedelta(days=30), now=TOMORROW_1030 +
                                      timedelta(hours=2))
    assert figures["no_show_rate"] == 1.0


def test_the_plan_is_pure_and_the_window_fits(customer):
    settings = planning.ReminderSettings(enabled=True)
    booking = Booking(id=1, customer_id=1, service="X", starts_at=TOMORROW_1030, ends_at=TOMORROW_1030,
                      status="pending")
    plan = planning.compute_plan(booking=booking, customer=customer, settings=settings, now=NOW)
    assert [(w.channel, w.status) for w in plan.wanted] == [("call", "planned"), ("sms", "held")]


def test_the_very_first_save_can_turn_a_channel_off(session, admin):
    service.update_reminder_settings(session=session, actor=admin,
                                     changes={"enabled": True, "call_lead_minutes": None}, now=NOW)
    session.commit()
    session.expire_all()
    assert service.get_reminder_settings(session=session).call_lead_minutes is None


def test_a_settled_reminder_is_an_outgoing_webhook_event(session, customer, reminders_on, admin, set_env):
    """reminder.settled goes to the endpoints subscribed to it, in the transaction that settles it."""
    import json

    from navaia_app.webhooks_out import service as hooks
    from navaia_app.webhooks_out.models import OutgoingEvent

    set_env(OUTGOING_WEBHOOKS_ALLOW_PRIVATE="true")
    hooks.create_endpoint(session=session, actor=admin, url="http://127.0.0.1:9/hooks", events=["reminder.settled"])
    session.commit()
    booking = book(session, customer, TOMORROW_1030, now=NOW)
    sender.run(datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    call_reminder = rows(session, booking.id)[0]
    call = session.get(CampaignCall, call_reminder.outbound_call_id)
    call.status = "ringing"
    session.add(call)
    session.commit()
    calls.record_call_outcome(session=session, outcome="voicemail", campaign_call_id=call.id)
    session.commit()
    (event,) = session.exec(select(OutgoingEvent).where(OutgoingEvent.event_type == "reminder.settled")).all()
    data = json.loads(event.payload)["data"]
    assert (data["id"], data["booking_id"], data["status"], data["result"]) == (
        call_reminder.id, booking.id, "unreachable", "voicemail")


def test_planning_every_booking_at_once_gives_each_the_plan_it_gets_alone(session, reminder_env, reminders_on, admin):
    """plan_upcoming (saving the settings: bulk rows, cached hours and eligibility) and planning one booking
    at a time agree, for customers in zones far apart, near the quiet hours, unreachable on a channel, sharing
    a number's verdict across channels, and a service left out."""
    from navaia_app.core.zones import zone_named  # noqa: F401  (the zones below must exist)

    reminders_on(sms_fallback=False, excluded_services=["Repair"])
    people = [Customer(name="Paris", phone="+33612345001", timezone="Europe/Paris"),
              Customer(name="Tokyo", phone="+81312345678", timezone="Asia/Tokyo"),
              Customer(name="Kiritimati", phone="+33612345003", timezone="Pacific/Kiritimati"),
              Customer(name="No calls", phone="+33612345004", timezone="America/Los_Angeles", do_not_call=True),
              Customer(name="No texts", phone="+33612345005", sms_opt_out=True),
              Customer(name="Bad number", phone="+3361234", timezone="Europe/Paris")]
    session.add_all(people)
    session.commit()
    made = []
    for n, person in enumerate(people):
        for hours in (0.5, 3, 22, 26, 49, 70):
            starts = NOW + timedelta(hours=hours, minutes=15 * n)
            made.append(bookings.create_booking(session=session, customer_id=person.id, starts_at=starts, now=NOW,
                                                service="Repair" if hours == 49 else "Consultation",
                                                resource=f"r{n}-{hours}", enforce_schedule=False))
    session.commit()

    def plans():
        return {b.id: [(r.channel, r.position, r.status, r.due_at, r.detail) for r in rows(session, b.id)
                       if r.status != "cancelled"] for b in made}

    alone = plans()
    assert sum(len(v) for v in alone.values()) > 40
    assert any(s == "skipped" for v in alone.values() for _, _, s, _, _ in v)
    session.exec(sa.delete(BookingReminder))
    session.commit()
    counts = planning.plan_upcoming(session=session, now=NOW)
    session.commit()
    assert counts["bookings"] == len(made)
    assert plans() == alone


@pytest.mark.parametrize("webhook_first", [False, True], ids=["status-then-webhook", "webhook-then-status"])
def test_the_reminder_calls_conversation_is_linked_whichever_comes_first(session, customer, reminders_on,
                                                                          webhook_first):
    """The post-call webhook (found by the campaign_call_id in the call's dynamic variables) links the
    conversation to the reminder and the booking's timeline, before or after the call's final status."""
    import json

    from navaia_app.conversations import service as conversations
    from navaia_app.conversations.models import Conversation, WebhookEvent
    from navaia_app.telephony.simulated import post_call_event

    booking = book(session, customer, TOMORROW_1030, now=NOW)
    sender.run(datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    call_reminder = rows(session, booking.id)[0]
    variables = variables_of(session, call_reminder)
    call = session.get(CampaignCall, call_reminder.outbound_call_id)
    call.status = "in_progress"  # the dispatcher placed it and the customer answered
    session.add(call)
    session.commit()
    agent_tools.confirm_booking(session=session, call_token=variables["call_token"],
                                now=datetime(2026, 12, 2, 10, 31, tzinfo=UTC))
    session.commit()

    def status_callback():
        calls.record_call_outcome(session=session, outcome="completed", campaign_call_id=call.id,
                                  duration_seconds=40)
        session.commit()

    def post_call_webhook() -> int:
        doc = post_call_event(provider_call_id="CAreminder0001", external_conversation_id="conv_reminder_1",
                              to=customer.phone, placed_at=datetime(2026, 12, 2, 10, 30, tzinfo=UTC),
                              duration_seconds=40, variables=variables, purpose="a reminder", business_timezone="UTC",
                              agent_id=None)
        doc["data"]["analysis"]["data_collection_results"] = {}
        event = WebhookEvent(source="elevenlabs", event_type="post_call_transcription", external_id="conv_reminder_1",
                             payload=json.dumps(doc), status="pending")
        session.add(event)
        session.commit()
        assert conversations.process_inbox_event(session=session, event_id=event.id) == "processed"
        session.commit()
        return session.exec(select(Conversation.id).where(Conversation.external_id == "conv_reminder_1")).one()

    if webhook_first:
        conversation_id = post_call_webhook()
        status_callback()
    else:
        status_callback()
        session.expire_all()
        assert rows(session, booking.id)[0].conversation_id is None  # the call is over; no conversation yet
        conversation_id = post_call_webhook()

    session.expire_all()
    reminder = rows(session, booking.id)[0]
    assert (reminder.status, reminder.result, reminder.conversation_id) == ("answered", "confirmed", conversation_id)
    assert session.get(Conversation, conversation_id).campaign_call_id == call.id
    assert session.get(CampaignCall, call.id).conversation_id == conversation_id
    linked = [e for e in timeline(session, booking.id) if e.kind == "reminder" and e.to_value == "conversation"]
    assert len(linked) == 1 and f"#{conversation_id}" in linked[0].body
    # the webhook delivered again changes nothing
    calls.record_call_outcome(session=session, outcome="completed", campaign_call_id=call.id,
                              conversation_id=conversation_id)
    session.commit()
    assert len([e for e in timeline(session, booking.id) if e.to_value == "conversation"]) == 1
