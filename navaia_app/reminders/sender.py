"""Sending the reminders that are due, and settling reminder calls that ended (the periodic job
`send-due-reminders` runs `run`; it runs once per slot however many workers there are).

The database decides, so a crash, a restart or an empty Redis never loses or doubles a reminder:

- a reminder is claimed with a conditional UPDATE (status 'planned' -> 'sending' or 'sent'), and its
  idempotency key is committed with the claim, before any provider is asked;
- a text left 'sending' by a job that died is looked up at the provider by that key (Twilio: the message
  to that number with that text since the claim; simulated: the key is the message) and adopted, or sent
  again only when the provider has no trace of it;
- a call is handed to the outbound pipeline in the claim's own transaction; the pipeline's own
  idempotency keys keep it from ringing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.bookings.models import Booking
from navaia_app.core.call_tokens import issue_call_token
from navaia_app.core.db import session_scope
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger, log_scope, mask_phone
from navaia_app.core.types import utcnow
from navaia_app.core.validation import try_normalize_phone
from navaia_app.customers.models import Customer
from navaia_app.reminders import calling, planning, service
from navaia_app.reminders.models import BookingReminder, SmsMessage
from navaia_app.telephony.base import PlacementError
from navaia_app.telephony.sms import SmsRequest, get_sms_provider

log = get_logger(__name__)

BATCH = 200
STUCK_AFTER = timedelta(minutes=2)  # a text 'sending' this long belongs to a job that died
CALL_TOKEN_SLACK = timedelta(hours=6)


def due_ids(session: Session, now: datetime, limit: int = BATCH) -> list[int]:
    """The reminders due now, oldest first (index ix_booking_reminders_due)."""
    return list(session.exec(select(BookingReminder.id).where(BookingReminder.status == "planned",
                                                              BookingReminder.due_at <= now)
                             .order_by(BookingReminder.due_at, BookingReminder.id).limit(limit)))


def _claim(session: Session, reminder: BookingReminder, status: str, now: datetime, **values: Any) -> bool:
    """Compare-and-set: only the job that flips the row from 'planned' sends it."""
    key = f"reminder-{reminder.id}-{reminder.tries + 1}"
    flipped = session.execute(sa.update(BookingReminder).where(
        BookingReminder.id == reminder.id, BookingReminder.status == "planned", BookingReminder.tries == reminder.tries)
        .values(status=status, tries=reminder.tries + 1, idempotency_key=key, updated_at=now, **values))
    if flipped.rowcount != 1:
        return False
    session.refresh(reminder)
    return True


def _not_now(session: Session, reminder: BookingReminder, booking: Booking | None, customer: Customer | None,
             now: datetime) -> str | None:
    """Why this reminder must not go now (it is settled or moved accordingly), or None."""
    settings = planning.load_settings(session)

    def settle(status: str, detail: str, *, next_channel: bool = False) -> str:
        reminder.status, reminder.detail, reminder.updated_at = status, detail[:300], now
        session.add(reminder)
        if next_channel:
            session.flush()
            service.hand_over(session, reminder, now)
        return status

    if booking is None or booking.status not in planning.UPCOMING or booking.starts_at != reminder.booking_starts_at:
        return settle("cancelled", "Not sent: the booking changed.")
    if not settings.enabled:
        return settle("cancelled", "Not sent: reminders are off.")
    if booking.starts_at - now < planning.MIN_NOTICE:
        return settle("skipped", "Not sent: too close to the booking's start.")
    if customer is None or try_normalize_phone(customer.phone) is None:
        return settle("skipped", "Not sent: the customer's number cannot be reached.", next_channel=True)
    if reminder.channel == "call" and customer.do_not_call:
        return settle("skipped", "Not sent: the customer is on the do-not-call list.", next_channel=True)
    if reminder.channel == "sms" and customer.sms_opt_out:
        return settle("skipped", "Not sent: the customer opted out of texts.", next_channel=True)
    zone = planning.zone_name(customer)
    window = planning.window_of(settings)
    if not window.contains(now, zone):  # a late run (a worker was down): wait for the allowed hours
        opening = window.next_opening(now, zone)
        if opening is None or opening > booking.starts_at - planning.MIN_NOTICE:
            return settle("skipped", "Not sent: no allowed time is left before the booking.")
        reminder.due_at, reminder.updated_at = opening, now
        session.add(reminder)
        return "deferred"
    return None


def send_one(reminder_id: int, now: datetime) -> str:
    """Send one due reminder; returns what happened (sent, call, deferred, skipped, cancelled, taken...)."""
    with session_scope() as session:
        reminder = session.get(BookingReminder, reminder_id)
        if reminder is None or reminder.status != "planned" or reminder.due_at is None or reminder.due_at > now:
            return "taken"
        booking = session.get(Booking, reminder.booking_id)
        customer = session.get(Customer, reminder.customer_id)
        refused = _not_now(session, reminder, booking, customer, now)
        if refused is not None:
            bump(session, "bookings")
            log.info("reminder.not_sent", reminder_id=reminder.id, why=refused)
            return refused
        settings = planning.load_settings(session)
        variables = service.reminder_variables(booking=booking, customer=customer, settings=settings)
        if reminder.channel == "call":
            # The agent's tools act on this booking only: the token names it (never an id the model says).
            ttl = max(booking.starts_at + CALL_TOKEN_SLACK - now, timedelta(hours=1))
            token = issue_call_token({"customer_id": customer.id, "booking_id": booking.id,
                                      "reminder_id": reminder.id}, ttl_seconds=int(ttl.total_seconds()))
            call_variables = {**variables, "call_token": token, "booking_id": str(booking.id),
                              "reminder_id": str(reminder.id),
                              "opening_line": service.render(settings.call_opening, variables)}
            if not _claim(session, reminder, "sent", now, sent_at=now, provider="outbound"):
                session.rollback()
                return "taken"
            reminder.outbound_call_id = calling.place(session, customer_id=customer.id, variables=call_variables,
                                                      now=now)
            session.add(reminder)
            bump(session, "bookings")
            log.info("reminder.call_requested", reminder_id=reminder.id, booking_id=booking.id,
                     outbound_call_id=reminder.outbound_call_id)
            return "call"
        provider = get_sms_provider()
        body = service.render(settings.sms_template, variables)
        if not _claim(session, reminder, "sending", now, provider=provider.name):
            session.rollback()
            return "taken"
        session.add(SmsMessage(direction="out", customer_id=customer.id, booking_id=booking.id,
                               reminder_id=reminder.id, phone=customer.phone, body=body, status="sending",
                               created_at=now))
        key, phone = reminder.idempotency_key, customer.phone
    # The key is committed: whatever happens now, a later job knows this text may have gone.
    try:
        sent = provider.send(SmsRequest(idempotency_key=key, to=phone, body=body))
    except PlacementError as exc:
        with session_scope() as session:
            return _send_failed(session, reminder_id, exc, now)
    with session_scope() as session:
        _mark_sent(session, reminder_id, sent.sid, sent.status, now)
    log.info("reminder.sms_sent", reminder_id=reminder_id, to=mask_phone(phone))
    return "sent"


def _mark_sent(session: Session, reminder_id: int, sid: str, status: str, now: datetime) -> None:
    reminder = session.get(BookingReminder, reminder_id)
    if reminder is None:
        return
    if reminder.status == "sending":
        reminder.status, reminder.sent_at, reminder.provider_ref = "sent", now, sid
        if status == "delivered":
            reminder.result = "delivered"
        reminder.updated_at = now
        session.add(reminder)
    message = session.exec(select(SmsMessage).where(SmsMessage.reminder_id == reminder_id,
                                                    SmsMessage.direction == "out")
                           .order_by(SmsMessage.id.desc()).limit(1)).first()
    if message is not None and message.provider_sid is None:
        message.provider_sid, message.status = sid, status
        session.add(message)
    bump(session, "bookings")


def _send_failed(session: Session, reminder_id: int, exc: PlacementError, now: datetime) -> str:
    reminder = session.get(BookingReminder, reminder_id)
    if reminder is None or reminder.status != "sending":
        return "gone"
    if exc.kind == "unknown":  # it may have gone: recovery asks the provider later
        log.warning("reminder.sms_outcome_unknown", reminder_id=reminder_id, reason=exc.reason)
        return "unknown"
    if exc.kind in ("rate_limited", "unavailable"):  # nothing went: try again shortly, with a new key
        reminder.status, reminder.due_at, reminder.detail = "planned", now + timedelta(seconds=exc.retry_after), \
            exc.reason
        reminder.updated_at = now
        session.add(reminder)
        log.warning("reminder.sms_not_sent", reminder_id=reminder_id, reason=exc.reason)
        return "retry"
    service.record_unreachable(session=session, reminder=reminder, result="failed", detail=exc.reason, now=now,
                               status="failed")
    log.warning("reminder.sms_failed", reminder_id=reminder_id, kind=exc.kind, reason=exc.reason)
    return "failed"


def recover_stuck(now: datetime) -> int:
    """Texts left 'sending' by a job that died between claiming and recording: adopt what went, or send
    again what did not."""
    with session_scope() as session:
        stuck = list(session.exec(select(BookingReminder).where(
            BookingReminder.status == "sending", BookingReminder.updated_at < now - STUCK_AFTER).limit(BATCH)))
        work = []
        for reminder in stuck:
            message = session.exec(select(SmsMessage).where(SmsMessage.reminder_id == reminder.id,
                                                            SmsMessage.direction == "out")
                                   .order_by(SmsMessage.id.desc()).limit(1)).first()
            work.append((reminder.id, reminder.idempotency_key, reminder.provider, message.phone if message else "",
                         message.body if message else "", reminder.updated_at))
    for reminder_id, key, provider_name, phone, body, since in work:
        try:
            found = get_sms_provider(provider_name).find_sent(idempotency_key=key, to=phone, body=body, since=since)
        except (PlacementError, ValueError) as exc:
            log.warning("reminder.recovery_deferred", reminder_id=reminder_id, reason=str(exc)[:200])
            continue
        with session_scope() as session:
            if found is not None:
                _mark_sent(session, reminder_id, found.sid, found.status, now)
                log.info("reminder.recovered", reminder_id=reminder_id)
            else:
                session.execute(sa.update(BookingReminder).where(BookingReminder.id == reminder_id,
                                                                 BookingReminder.status == "sending")
                                .values(status="planned", due_at=now, updated_at=now))
                log.info("reminder.recovered_not_sent", reminder_id=reminder_id)
    return len(work)


def settle_calls(now: datetime) -> int:
    """Reminder calls the pipeline has finished: answered (with or without a decision), or unreachable (the
    next channel goes). Calls for bookings that changed meanwhile are withdrawn if not yet dialled."""
    settled = 0
    with session_scope() as session:
        rows = list(session.exec(select(BookingReminder).where(
            BookingReminder.channel == "call", BookingReminder.outbound_call_id.is_not(None),
            sa.or_(BookingReminder.status == "sent",
                   sa.and_(BookingReminder.status == "answered", BookingReminder.conversation_id.is_(None),
                           BookingReminder.answered_at > now - timedelta(days=1))))
            .order_by(BookingReminder.id).limit(1000)))
        states = calling.states(session, [r.outbound_call_id for r in rows])
        for reminder in rows:
            state = states.get(reminder.outbound_call_id)
            if state is None:
                continue
            if state.conversation_id is not None and reminder.conversation_id is None:
                reminder.conversation_id = state.conversation_id
                session.add(reminder)
            if reminder.status != "sent":
                continue
            if not state.final:
                booking = session.get(Booking, reminder.booking_id)
                if booking is None or booking.status not in planning.UPCOMING \
                        or booking.starts_at != reminder.booking_starts_at:
                    calling.withdraw(session, reminder.outbound_call_id, now)
                continue
            settled += 1
            if state.outcome == "completed":
                reminder.status, reminder.result, reminder.answered_at = "answered", "no_decision", now
                reminder.detail, reminder.updated_at = "Answered; no confirmation, cancellation or new time.", now
                session.add(reminder)
            elif state.outcome in ("busy", "no_answer", "failed", "voicemail"):
                service.record_unreachable(session=session, reminder=reminder, result=state.outcome,
                                           detail=state.detail, now=now)
            else:  # skipped or cancelled by the pipeline (do not call, invalid number, withdrawn)
                service.record_unreachable(session=session, reminder=reminder, result="failed",
                                           detail=f"Not called: {state.detail or state.outcome}", now=now,
                                           status="skipped")
        if settled:
            bump(session, "bookings")
    return settled


def run(now: datetime | None = None, *, limit: int = BATCH) -> dict[str, int]:
    """One pass: recover, settle finished calls, send what is due (several batches while work is left)."""
    now = now or utcnow()
    counts: dict[str, int] = {"recovered": recover_stuck(now), "settled": settle_calls(now)}
    seen: set[int] = set()
    for _ in range(20):
        with session_scope() as session:
            ids = [i for i in due_ids(session, now, limit) if i not in seen]
        if not ids:
            break
        for reminder_id in ids:
            seen.add(reminder_id)
            with log_scope(reminder_id=reminder_id):
                try:
                    outcome = send_one(reminder_id, now)
                except Exception:  # one bad reminder never holds up the others; the next pass retries it
                    log.exception("reminder.send_failed", reminder_id=reminder_id)
                    outcome = "error"
            counts[outcome] = counts.get(outcome, 0) + 1
    if len(counts) > 2 or counts["recovered"] or counts["settled"]:
        log.info("reminders.run", **counts)
    return counts
