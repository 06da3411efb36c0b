"""Booking reminders: the settings, the reminders of a booking, what the customer answers (by voice, through
the agent's tools, or by SMS) and how a reminder is settled. Planning lives in planning.py (the bookings
service calls it); sending the due reminders in sender.py.

- A customer's answer changes the booking through the bookings service (same rules as staff): confirm,
  cancel (with the reason), or move to a free slot (race-safe; the old slot is freed in the same
  transaction). The booking's timeline says "confirmed by phone" (or "by text"), and the reminder's result.
- Once the customer has answered, the reminders still waiting for that booking are cancelled.
- A reminder that reached nobody (no answer, busy, failed, voicemail, undelivered) hands over to the next
  channel, which is sent at once (inside the allowed hours).
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.audit import service as audit
from navaia_app.auth.permissions import require
from navaia_app.bookings import service as bookings
from navaia_app.bookings.models import Booking
from navaia_app.activity.service import record_activity
from navaia_app.core.db import savepoint
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.core.validation import raise_first
from navaia_app.customers.models import Customer
from navaia_app.reminders import planning
from navaia_app.reminders.models import (
    CHANNELS,
    OPEN_STATUSES,
    BookingReminder,
    ReminderSettings,
    ReminderOut,
    ReminderSettingsOut,
    SmsMessage,
)
from navaia_app.webhooks_out import outbox

log = get_logger(__name__)


def _settled(session: Session, reminder: BookingReminder) -> None:
    """`reminder.settled` for outgoing webhooks, in this unit of work: answered, or reached nobody."""
    session.flush()
    outbox.emit_record(session, "reminder.settled", ReminderOut, reminder)

VARIABLES = ("customer_name", "service", "start_time", "business_name")
MAX_LEAD = 10_080
DEFAULT_BUSINESS_NAME = "our team"
ANSWERS = ("confirmed", "cancelled", "rescheduled")
CHANNEL_WORDS = {"call": "by phone", "sms": "by text"}


# --- settings ----------------------------------------------------------------------------------------


def get_reminder_settings(*, session: Session) -> ReminderSettings:
    """The reminder settings: the stored row, or the defaults while no admin has saved any. Never raises."""
    return planning.load_settings(session)


def settings_out(row: ReminderSettings) -> ReminderSettingsOut:
    """The settings as the REST API and the settings page show them (the channel order always holds both)."""
    return ReminderSettingsOut(
        enabled=row.enabled, call_lead_minutes=row.call_lead_minutes, sms_lead_minutes=row.sms_lead_minutes,
        sms_fallback=row.sms_fallback, channel_order=planning.channel_order(row), window_start=row.window_start,
        window_end=row.window_end, excluded_services=list(row.excluded_services or []),
        business_name=row.business_name, sms_template=row.sms_template, call_opening=row.call_opening,
        updated_at=row.updated_at)


def _hhmm(value: Any, field: str, errors: dict[str, str]) -> str | None:
    text = str(value or "").strip()
    try:
        hours, minutes = text.split(":")
        if len(hours) == 2 and len(minutes) == 2 and 0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59:
            return text
    except ValueError:
        pass
    errors[field] = "Give a time as HH:MM (24-hour clock), e.g. 09:00."
    return None


def check_template(text: Any, field: str, errors: dict[str, str]) -> str | None:
    """A template may use only the known variables, each as {name}."""
    value = str(text or "").strip()
    if not value:
        errors[field] = "The text cannot be empty."
        return None
    if len(value) > 600:
        errors[field] = "The text is too long (600 characters at most)."
        return None
    try:
        names = [name for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    except ValueError:
        errors[field] = "Braces must pair up: write a variable as {customer_name}."
        return None
    unknown = [n for n in names if n not in VARIABLES]
    if unknown:
        errors[field] = f"Unknown variable {{{unknown[0]}}} (use {', '.join('{' + v + '}' for v in VARIABLES)})."
        return None
    return value


def update_reminder_settings(*, session: Session, actor, changes: dict[str, Any],
                             now: datetime | None = None) -> ReminderSettings:
    """Change the fields given (admins only); every upcoming booking is re-planned in this transaction."""
    require(actor, "change_settings")
    now = now or utcnow()
    unknown = set(changes) - {"enabled", "call_lead_minutes", "sms_lead_minutes", "sms_fallback", "channel_order",
                              "window_start", "window_end", "excluded_services", "business_name", "sms_template",
                              "call_opening"}
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"Cannot change {field!r}.", field=field)
    errors: dict[str, str] = {}
    new: dict[str, Any] = {}
    for field in ("enabled", "sms_fallback"):
        if field in changes:
            if not isinstance(changes[field], bool):
                errors[field] = "Give true or false."
            new[field] = changes[field]
    for field in ("call_lead_minutes", "sms_lead_minutes"):
        if field in changes:
            value = changes[field]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 0 <= value <= MAX_LEAD):
                errors[field] = f"Give a whole number of minutes from 0 to {MAX_LEAD:,} (or none: channel off)."
            new[field] = value
    if "channel_order" in changes:
        order = changes["channel_order"]
        if isinstance(order, str):
            order = [c.strip() for c in order.split(",") if c.strip()]
        if not isinstance(order, list) or not order or any(c not in CHANNELS for c in order) \
                or len(set(order)) != len(order):
            errors["channel_order"] = "List the channels once each, in order: call, sms."
        else:
            new["channel_order"] = ",".join(order)
    for field in ("window_start", "window_end"):
        if field in changes:
            new[field] = _hhmm(changes[field], field, errors)
    if "excluded_services" in changes:
        services = changes["excluded_services"]
        if isinstance(services, str):
            services = [s for s in services.split(",")]
        if not isinstance(services, list) or any(not isinstance(s, str) or len(s.strip()) > 120 for s in services):
            errors["excluded_services"] = "List service names (120 characters at most each)."
        else:
            cleaned = []
            for name in services:
                if name.strip() and name.strip().lower() not in {c.lower() for c in cleaned}:
                    cleaned.append(name.strip())
            new["excluded_services"] = cleaned[:200]
    if "business_name" in changes:
        name = str(changes["business_name"] or "").strip()
        if len(name) > 120:
            errors["business_name"] = "The business name is too long (120 characters at most)."
        new["business_name"] = name
    for field in ("sms_template", "call_opening"):
        if field in changes:
            new[field] = check_template(changes[field], field, errors)
    if new.get("window_start") and new.get("window_start") == new.get("window_end"):
        errors["window_end"] = "The allowed hours must not start and end at the same time."
    raise_first(errors)
    row = session.get(ReminderSettings, 1, with_for_update=True)
    if row is None:
        # Stored with its defaults first: on an INSERT the ORM would take a lead of None for "use the default".
        row = ReminderSettings(id=1)
        session.add(row)
        session.flush()
    if (new.get("window_start") or row.window_start) == (new.get("window_end") or row.window_end):
        raise ValidationFailed("The allowed hours must not start and end at the same time.", field="window_end")
    changed = {k: v for k, v in new.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by_id = now, getattr(actor, "id", None)
    session.add(row)
    session.flush()
    if changed.keys() - {"business_name", "sms_template", "call_opening"}:
        planning.plan_upcoming(session=session, now=now, reason="settings")
        bump(session, "bookings")
    audit.record(session, action="reminders.settings_changed", actor=actor, target_type="reminder_settings",
                 target_id=1, detail={k: v for k, v in changed.items() if k not in ("sms_template", "call_opening")})
    log.info("reminders.settings_changed", fields=sorted(changed), actor_id=getattr(actor, "id", None))
    return row


# --- what a reminder says ------------------------------------------------------------------------------


def reminder_variables(*, booking: Booking, customer: Customer | None, settings: ReminderSettings) -> dict[str, str]:
    """The values a reminder's text and call fill in (customer_name, service, start_time in the customer's zone,
    business_name); "" for a missing customer."""
    zone = planning.zone_name(customer)
    return {"customer_name": customer.name if customer is not None else "",
            "service": booking.service,
            "start_time": planning.spoken_start(booking.starts_at, zone),
            "business_name": settings.business_name or DEFAULT_BUSINESS_NAME}


def render(template: str, variables: dict[str, str]) -> str:
    """`template` with its {variables} filled in (an unknown one is ""). Never raises: a template that does not
    format (stored before validation) comes back as it is."""
    try:
        return template.format(**{name: variables.get(name, "") for name in VARIABLES})
    except (KeyError, ValueError, IndexError):  # a template stored before validation: say it plainly
        return template


def preview(*, session: Session, settings: ReminderSettings | None = None, booking_id: int | None = None,
            now: datetime | None = None) -> dict[str, Any]:
    """The SMS text and the call's opening line with a real booking's values (the next upcoming one)."""
    settings = settings or planning.load_settings(session)
    now = now or utcnow()
    booking = session.get(Booking, booking_id) if booking_id is not None else session.exec(
        select(Booking).where(Booking.status.in_(planning.UPCOMING), Booking.starts_at > now)
        .order_by(Booking.starts_at).limit(1)).first()
    if booking is None:
        variables = {"customer_name": "Ada Lovelace", "service": "Consultation",
                     "start_time": "Thursday 3 December at 10:30",
                     "business_name": settings.business_name or DEFAULT_BUSINESS_NAME}
    else:
        variables = reminder_variables(booking=booking, customer=session.get(Customer, booking.customer_id),
                                       settings=settings)
    return {"booking_id": booking.id if booking is not None else None, "variables": variables,
            "sms": render(settings.sms_template, variables), "call_opening": render(settings.call_opening, variables)}


def call_variables_for(*, session: Session, reminder_id: Any) -> dict[str, str]:
    """The reminder call's own dynamic variables, read when it is dialled: the customer's name, the service,
    the start in the customer's zone, the business name, the opening line, the booking and reminder ids
    (the pipeline adds the customer ids and the signed call_token naming the booking)."""
    reminder = session.get(BookingReminder, reminder_id) if isinstance(reminder_id, int) else None
    booking = session.get(Booking, reminder.booking_id) if reminder is not None else None
    if booking is None:
        return {}
    settings = planning.load_settings(session)
    variables = reminder_variables(booking=booking, customer=session.get(Customer, booking.customer_id),
                                   settings=settings)
    return {**variables, "opening_line": render(settings.call_opening, variables), "booking_id": str(booking.id),
            "reminder_id": str(reminder.id)}


def _reminder_of_call(session: Session, call: Any) -> BookingReminder | None:
    """The reminder a pipeline call was placed for (its claims name it; the reminder names the call)."""
    reminder_id = (call.claims or {}).get("reminder_id")
    reminder = session.get(BookingReminder, reminder_id) if isinstance(reminder_id, int) else None
    if reminder is None or reminder.outbound_call_id not in (None, call.id):
        return None
    return reminder


def _link_conversation(session: Session, reminder: BookingReminder, call: Any, now: datetime) -> bool:
    """Give the reminder its call's conversation (once) and say so on the booking's timeline."""
    if reminder.conversation_id is not None or call.conversation_id is None:
        return False
    reminder.conversation_id = call.conversation_id
    session.add(reminder)
    record_activity(session, subject_type="booking", subject_id=reminder.booking_id, kind="reminder",
                    from_value="call", to_value="conversation",
                    body=f"The reminder call's conversation is #{call.conversation_id} (Conversations).", at=now)
    bump(session, "bookings")
    return True


def link_reminder_conversation(*, session: Session, call: Any, now: datetime | None = None) -> BookingReminder | None:
    """The post-call webhook linked a conversation to a reminder call: the reminder and its booking's timeline
    get it, whether the call's final status came before the webhook or after (then settle_reminder_call links
    it). Returns the reminder (None: not a reminder call)."""
    reminder = _reminder_of_call(session, call)
    if reminder is not None:
        _link_conversation(session, reminder, call, now or utcnow())
    return reminder


def settle_reminder_call(*, session: Session, call: Any, now: datetime | None = None) -> BookingReminder | None:
    """The pipeline says a reminder call is over: answered (the tools recorded any decision already; else
    "no decision"), reached nobody (the next channel goes), or never rang (skipped or cancelled: the next
    channel goes too). Its conversation, when the post-call webhook came first, is linked here."""
    now = now or utcnow()
    reminder = _reminder_of_call(session, call)
    if reminder is None:
        return None
    _link_conversation(session, reminder, call, now)
    if reminder.status != "sent":
        return reminder  # answered through the tools while on the call, or settled already
    if call.status == "completed":
        reminder.status, reminder.result, reminder.answered_at, reminder.updated_at = "answered", "no_decision", \
            now, now
        reminder.detail = "Answered; no confirmation, cancellation or new time."
        session.add(reminder)
        bump(session, "bookings")
        _settled(session, reminder)
    elif call.status in ("busy", "no_answer", "failed", "voicemail", "voicemail_left"):
        result = "voicemail" if call.status == "voicemail_left" else call.status
        record_unreachable(session=session, reminder=reminder, result=result, detail=call.last_detail, now=now)
    else:  # skipped or cancelled by the pipeline (do not call, invalid number, withdrawn)
        record_unreachable(session=session, reminder=reminder, result="failed", now=now, status="skipped",
                           detail=f"Not called: {call.skip_reason or call.status}")
    log.info("reminder.call_settled", reminder_id=reminder.id, call_status=call.status, status=reminder.status)
    return reminder


# --- reading -------------------------------------------------------------------------------------------


def list_booking_reminders(*, session: Session, booking_id: int) -> list[BookingReminder]:
    """A booking's reminders, as planned and as they went (oldest first)."""
    bookings.get_booking(session=session, booking_id=booking_id)
    return planning.reminders_of(session, booking_id)


def reminders_for_bookings(*, session: Session, booking_ids: list[int]) -> dict[int, list[BookingReminder]]:
    """The reminders of each of these bookings (oldest first), in one query; a booking without any is absent."""
    out: dict[int, list[BookingReminder]] = {}
    if not booking_ids:
        return out
    for row in session.exec(select(BookingReminder).where(BookingReminder.booking_id.in_(booking_ids))
                            .order_by(BookingReminder.id)):
        out.setdefault(row.booking_id, []).append(row)
    return out


def reminder_counts(*, session: Session, since: datetime, now: datetime) -> dict[str, Any]:
    """Dashboard figures: bookings confirmed by a reminder since `since`, and the no-show rate of the
    bookings that started between `since` and now (no-shows / (completed + no-shows))."""
    from navaia_app.activity.models import ActivityEntry

    confirmed = session.exec(select(sa.func.count(sa.distinct(ActivityEntry.subject_id))).where(
        ActivityEntry.subject_type == "booking", ActivityEntry.kind == "reminder",
        ActivityEntry.to_value == "confirmed", ActivityEntry.created_at >= since)).one()
    rows = session.exec(select(Booking.status, sa.func.count()).where(
        Booking.starts_at >= since, Booking.starts_at < now, Booking.status.in_(("completed", "no_show")))
        .group_by(Booking.status)).all()
    counts = dict(rows)
    finished = counts.get("completed", 0) + counts.get("no_show", 0)
    return {"confirmed_by_reminder": confirmed, "no_shows": counts.get("no_show", 0), "finished": finished,
            "no_show_rate": (counts.get("no_show", 0) / finished) if finished else None}


# --- settling ------------------------------------------------------------------------------------------


def _timeline(session: Session, booking_id: int, channel: str, result: str, body: str, now: datetime) -> None:
    record_activity(session, subject_type="booking", subject_id=booking_id, kind="reminder", from_value=channel,
                    to_value=result, body=body, at=now)


def cancel_waiting(session: Session, booking_id: int, starts_at: datetime, why: str, now: datetime, *,
                   except_id: int | None = None) -> None:
    """Cancel the reminders still waiting for the booking's start `starts_at`."""
    conditions = [BookingReminder.booking_id == booking_id, BookingReminder.status.in_(OPEN_STATUSES),
                  BookingReminder.booking_starts_at == starts_at]
    if except_id is not None:
        conditions.append(BookingReminder.id != except_id)
    session.exec(sa.update(BookingReminder).where(*conditions)
                 .values(status="cancelled", detail=f"Not sent: {why}."[:300], updated_at=now))


def hand_over(session: Session, reminder: BookingReminder, now: datetime) -> BookingReminder | None:
    """`reminder` reached nobody: the next channel held behind it goes now (inside the allowed hours)."""
    following = session.exec(select(BookingReminder).where(
        BookingReminder.booking_id == reminder.booking_id, BookingReminder.status == "held",
        BookingReminder.booking_starts_at == reminder.booking_starts_at,
        BookingReminder.position > reminder.position).order_by(BookingReminder.position).limit(1)).first()
    if following is None:
        return None
    settings = planning.load_settings(session)
    customer = session.get(Customer, following.customer_id)
    due = planning.fit_window(now, starts_at=following.booking_starts_at, now=now,
                              window=planning.window_of(settings), zone=planning.zone_name(customer))
    if due is None or following.booking_starts_at - now < planning.MIN_NOTICE:
        following.status, following.detail = "skipped", "Not sent: no allowed time is left before the booking."
    else:
        following.status, following.due_at = "planned", due
        following.detail = f"Sent because the {reminder.channel} reached nobody."
    following.updated_at = now
    session.add(following)
    log.info("reminder.handed_over", reminder_id=reminder.id, to_reminder_id=following.id, channel=following.channel,
             status=following.status)
    return following


def record_unreachable(*, session: Session, reminder: BookingReminder, result: str, detail: str | None,
                       now: datetime | None = None, status: str = "unreachable") -> BookingReminder:
    """The reminder reached nobody (no answer, busy, voicemail, failed, undelivered): the next channel goes."""
    now = now or utcnow()
    if reminder.status in ("answered", "unreachable", "failed", "skipped", "cancelled"):
        return reminder
    reminder.status, reminder.result, reminder.updated_at = status, result, now
    reminder.detail = (detail or None) and detail[:300]
    session.add(reminder)
    session.flush()
    _settled(session, reminder)
    hand_over(session, reminder, now)
    bump(session, "bookings")
    log.info("reminder.unreachable", reminder_id=reminder.id, channel=reminder.channel, result=result)
    return reminder


def _answer(session: Session, reminder: BookingReminder | None, booking: Booking, starts_at: datetime, channel: str,
            result: str, now: datetime, detail: str | None = None) -> None:
    """Record the customer's answer about the booking's start `starts_at` (before a move: the old one)."""
    if reminder is not None:
        reminder.status, reminder.result, reminder.answered_at, reminder.updated_at = "answered", result, now, now
        reminder.detail = (detail or None) and detail[:300]
        session.add(reminder)
        _settled(session, reminder)
    cancel_waiting(session, booking.id, starts_at, "the customer already answered", now,
                   except_id=reminder.id if reminder is not None else None)
    words = {"confirmed": "Confirmed", "cancelled": "Cancelled", "rescheduled": "Rescheduled"}[result]
    _timeline(session, booking.id, channel, result, f"{words} by the customer {CHANNEL_WORDS[channel]}"
              + (f": {detail}" if detail else "."), now)
    bump(session, "bookings")
    log.info("reminder.answered", booking_id=booking.id, reminder_id=reminder.id if reminder else None,
             channel=channel, result=result)


def _reminder_for(session: Session, booking: Booking, reminder_id: int | None, channel: str) -> BookingReminder | None:
    if reminder_id is not None:
        row = session.get(BookingReminder, reminder_id)
        if row is not None and row.booking_id == booking.id:
            return row
    return session.exec(select(BookingReminder).where(
        BookingReminder.booking_id == booking.id, BookingReminder.channel == channel,
        BookingReminder.status.in_(("sent", "answered", "sending"))).order_by(BookingReminder.id.desc())
        .limit(1)).first()


def _upcoming(session: Session, booking_id: int, now: datetime) -> Booking:
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None:
        raise NotFound("That booking no longer exists.")
    if booking.status not in planning.UPCOMING:
        raise Conflict(f"The booking is already {bookings.STATUS_LABELS[booking.status].lower()}.", field="status")
    if booking.starts_at <= now:
        raise Conflict("The booking has already started.", field="starts_at")
    return booking


def confirm_by_customer(*, session: Session, booking_id: int, channel: str, reminder_id: int | None = None,
                        now: datetime | None = None) -> Booking:
    """The customer confirms (on the reminder call, or by SMS). Confirming twice is harmless."""
    now = now or utcnow()
    booking = _upcoming(session, booking_id, now)
    reminder = _reminder_for(session, booking, reminder_id, channel)
    if booking.status == "confirmed" and reminder is not None and reminder.result == "confirmed":
        return booking
    if booking.status == "pending":
        booking = bookings.change_booking_status(session=session, booking_id=booking.id, status="confirmed", now=now)
    _answer(session, reminder, booking, booking.starts_at, channel, "confirmed", now)
    return booking


def cancel_by_customer(*, session: Session, booking_id: int, channel: str, reason: str = "",
                       reminder_id: int | None = None, now: datetime | None = None) -> Booking:
    """The customer cancels; their reason goes on the booking's timeline."""
    now = now or utcnow()
    reason = str(reason or "").strip()[:200]
    booking = _upcoming(session, booking_id, now)
    reminder = _reminder_for(session, booking, reminder_id, channel)
    starts_at = booking.starts_at
    booking = bookings.change_booking_status(session=session, booking_id=booking.id, status="cancelled", now=now)
    _answer(session, reminder, booking, starts_at, channel, "cancelled", now, detail=reason or None)
    return booking


def reschedule_by_customer(*, session: Session, booking_id: int, starts_at: datetime, channel: str,
                           reminder_id: int | None = None, now: datetime | None = None) -> Booking:
    """Move the booking to `starts_at` (the same rules as staff: open hours, no overlap, under the resource
    lock; the old slot is free once this commits). Raises Conflict/ValidationFailed with the reason."""
    now = now or utcnow()
    booking = _upcoming(session, booking_id, now)
    reminder = _reminder_for(session, booking, reminder_id, channel)
    before = booking.starts_at
    with savepoint(session):  # a refusal leaves the booking as it was
        booking = bookings.reschedule_booking(session=session, booking_id=booking.id, starts_at=starts_at, now=now)
    zone = planning.zone_name(session.get(Customer, booking.customer_id))
    _answer(session, reminder, booking, before, channel, "rescheduled", now,
            detail=f"from {planning.spoken_start(before, zone)} to {planning.spoken_start(booking.starts_at, zone)}")
    return booking


def offer_slots(*, session: Session, booking: Booking, now: datetime | None = None, near: datetime | None = None,
                count: int = 5, days: int = 14) -> list[datetime]:
    """Free start times for this booking (same availability rules as any booking), nearest to `near` (default:
    its current start) first, then in time order."""
    now = now or utcnow()
    start = max(now, (near or booking.starts_at) - timedelta(days=days // 2))
    slots = bookings.free_slots(session=session, start=start, end=start + timedelta(days=days),
                                duration_minutes=booking.duration_minutes, resource=booking.resource,
                                ignore_booking_id=booking.id, now=now)
    target = near or booking.starts_at
    slots = [s for s in slots if s != booking.starts_at]
    return sorted(sorted(slots, key=lambda s: abs((s - target).total_seconds()))[:count])


def next_reminded_booking(*, session: Session, customer_id: int, now: datetime) -> Booking | None:
    """What an SMS reply applies to: the sender's next upcoming booking that has a reminder."""
    return session.exec(
        select(Booking).where(Booking.customer_id == customer_id, Booking.status.in_(planning.UPCOMING),
                              Booking.starts_at > now,
                              sa.exists().where(BookingReminder.booking_id == Booking.id,
                                                BookingReminder.booking_starts_at == Booking.starts_at,
                                                BookingReminder.status != "cancelled"))
        .order_by(Booking.starts_at).limit(1)).first()


# --- replies by SMS -------------------------------------------------------------------------------------

CONFIRM_WORDS = {"yes", "y", "c", "1", "confirm", "ok"}
CANCEL_WORDS = {"no", "n", "cancel", "2"}
STOP_WORDS = {"stop", "stopall", "unsubscribe", "end", "quit", "optout"}  # carrier opt-out keywords
START_WORDS = {"start", "unstop", "subscribe"}
MAX_SMS = 1600


def _keyword(body: str) -> str:
    return "".join(ch for ch in (body or "").strip().lower() if ch.isalnum())


def handle_inbound_sms(*, session: Session, message_sid: str, from_phone: str, body: str,
                       now: datetime | None = None) -> tuple[SmsMessage, str | None]:
    """An SMS from a customer (idempotent on `message_sid`): YES/C/1 confirms and NO/CANCEL/2 cancels their next
    upcoming booking that has a reminder; STOP opts them out of texts and START back in (the carrier answers
    those); anything else, or a reply nobody can act on, becomes a ticket for staff with the text and a link to
    the booking. Returns the stored message and the reply to send (None: no reply)."""
    from navaia_app.core.validation import try_normalize_phone
    from navaia_app.tickets import service as tickets

    now = now or utcnow()
    sid = str(message_sid or "").strip()[:64]
    if not sid:
        raise ValidationFailed("MessageSid is required.", field="MessageSid")
    seen = session.exec(select(SmsMessage).where(SmsMessage.provider_sid == sid)).first()
    if seen is not None:
        reply = session.exec(select(SmsMessage.body).where(SmsMessage.provider_sid == f"re:{sid}"[:64])).first()
        return seen, reply
    phone = try_normalize_phone(str(from_phone or "")) or str(from_phone or "")[:20]
    text = str(body or "")[:MAX_SMS]
    customer = session.exec(select(Customer).where(Customer.phone == phone)).first() if phone else None
    message = SmsMessage(direction="in", provider_sid=sid, customer_id=customer.id if customer else None,
                         phone=phone[:20], body=text, status="received", created_at=now)
    session.add(message)
    session.flush()  # the unique MessageSid: a concurrent duplicate fails here and changes nothing
    word = _keyword(text)
    reply: str | None = None
    booking = next_reminded_booking(session=session, customer_id=customer.id, now=now) if customer else None
    message.booking_id = booking.id if booking is not None else None
    settings = planning.load_settings(session)
    name = settings.business_name or DEFAULT_BUSINESS_NAME
    if customer is not None and word in STOP_WORDS:
        customer.sms_opt_out, customer.updated_at = True, now
        session.add(customer)
        message.action = "stop"
        bump(session, "customers")
    elif customer is not None and word in START_WORDS:
        customer.sms_opt_out, customer.updated_at = False, now
        session.add(customer)
        message.action = "start"
        bump(session, "customers")
    elif booking is not None and (word in CONFIRM_WORDS or word in CANCEL_WORDS):
        reminder = _reminder_for(session, booking, None, "sms")
        message.reminder_id = reminder.id if reminder is not None else None
        variables = reminder_variables(booking=booking, customer=customer, settings=settings)
        try:
            with savepoint(session):
                if word in CONFIRM_WORDS:
                    confirm_by_customer(session=session, booking_id=booking.id, channel="sms",
                                        reminder_id=message.reminder_id, now=now)
                    message.action = "confirmed"
                    reply = (f"Thank you, {customer.name.split()[0]}: your {booking.service} on "
                             f"{variables['start_time']} is confirmed. {name}")
                else:
                    cancel_by_customer(session=session, booking_id=booking.id, channel="sms",
                                       reason="replied to the reminder text", reminder_id=message.reminder_id, now=now)
                    message.action = "cancelled"
                    reply = (f"Your {booking.service} on {variables['start_time']} is cancelled. "
                             f"Call us to book another time. {name}")
        except (Conflict, ValidationFailed, NotFound) as exc:
            message.action = None
            log.info("sms.reply_not_applied", booking_id=booking.id, reason=exc.message[:120])
    if message.action is None:
        if customer is None:
            title = f"Text from an unknown number: {text.strip()[:80] or '(empty)'}"
        elif booking is None and word in CONFIRM_WORDS | CANCEL_WORDS:
            title = f"Text from {customer.name} (no upcoming reminded booking): {text.strip()[:60]}"
        else:
            title = f"Text from {customer.name}: {text.strip()[:80] or '(empty)'}"
        from navaia_app.core.settings import get_settings

        link = (f"\n\nBooking: {get_settings().public_base_url.rstrip('/')}/bookings?booking={booking.id}"
                if booking is not None else "")
        description = f"From {phone}:\n\n{text}{link}"
        ticket = tickets.create_ticket(session=session, title=title[:200], description=description[:10_000],
                                       priority="medium", category="sms", source="api",
                                       customer_id=customer.id if customer else None)
        message.ticket_id, message.action = ticket.id, "ticket"
        reply = f"Thank you, we have passed your message on to our team. {name}"
    session.add(message)
    if reply is not None:
        session.add(SmsMessage(direction="out", provider_sid=f"re:{sid}"[:64], customer_id=message.customer_id,
                               booking_id=message.booking_id, phone=phone[:20], body=reply[:MAX_SMS], status="reply",
                               created_at=now))
    session.flush()
    log.info("sms.received", action=message.action, customer_id=message.customer_id, booking_id=message.booking_id)
    return message, reply


def record_sms_status(*, session: Session, message_sid: str, status: str, error_code: str | None = None,
                      now: datetime | None = None) -> BookingReminder | None:
    """Twilio's delivery report for a reminder text: delivered, or undelivered/failed (the next channel goes)."""
    now = now or utcnow()
    status = (status or "").strip().lower()
    message = session.exec(select(SmsMessage).where(SmsMessage.provider_sid == message_sid)).first()
    if message is not None and status:
        message.status = status[:20]
        session.add(message)
    reminder = session.exec(select(BookingReminder).where(BookingReminder.provider_ref == message_sid)).first()
    if reminder is None:
        return None
    if status == "delivered" and reminder.result is None:
        reminder.result, reminder.updated_at = "delivered", now
        session.add(reminder)
        bump(session, "bookings")
    elif status in ("undelivered", "failed") and reminder.status == "sent":
        record_unreachable(session=session, reminder=reminder, result="undelivered",
                           detail=f"Text not delivered (Twilio {error_code})" if error_code else "Text not delivered",
                           now=now)
    return reminder


# --- how screens name a reminder -----------------------------------------------------------------------

CHANNEL_LABELS = {"call": "Call", "sms": "Text"}
STATUS_LABELS = {"planned": "Planned", "held": "If the first reaches nobody", "sending": "Sending", "sent": "Sent",
                 "answered": "Answered", "unreachable": "Reached nobody", "failed": "Failed", "skipped": "Not sent",
                 "cancelled": "Cancelled"}
RESULT_LABELS = {"confirmed": "Confirmed by customer", "cancelled": "Cancelled by customer",
                 "rescheduled": "Rescheduled by customer", "no_decision": "Answered, no decision",
                 "delivered": "Delivered", "no_answer": "No answer", "busy": "Busy", "voicemail": "Voicemail",
                 "failed": "Failed", "undelivered": "Not delivered"}


def summary_of(rows: list[BookingReminder]) -> tuple[str, bool]:
    """One short line about a booking's reminders for lists and the calendar ("" when it has none), and
    whether the customer confirmed through one."""
    confirmed = any(r.result == "confirmed" for r in rows)
    shown = [r for r in rows if r.status not in ("cancelled", "held")]
    if confirmed:
        return "Confirmed by customer", True
    if not shown:
        return "", False
    last = max(shown, key=lambda r: (r.updated_at, r.id))
    channel = CHANNEL_LABELS[last.channel].lower()
    if last.result:
        return f"Reminder {channel}: {RESULT_LABELS.get(last.result, last.result).lower()}", False
    return f"Reminder {channel}: {STATUS_LABELS.get(last.status, last.status).lower()}", False
