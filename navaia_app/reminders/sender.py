"""Sending the reminders that are due (the periodic job
`send-due-reminders` runs `run`; it runs once per slot however many workers there are).

The database decides, so a crash, a restart or an empty Redis never loses or doubles a reminder:

- a reminder is claimed with a conditional UPDATE (status 'planned' -> 'sending' or 'sent'), and its
  idempotency key is committed with the claim, before any provider is asked;
- a text left 'sending' by a job that died is looked up at the provider by that key (Twilio: the message
  to that number with that text since the claim; simulated: the key is the message) and adopted, or sent
  again only when the provider has no trace of it;
- a call is handed to the outbound pipeline (outreach.calls.request_call, keyed by the reminder's key) in
  the claim's own transaction; the pipeline's idempotency keys keep it from ringing twice, and it tells
  the reminder when the call is over (reminders/policy.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.bookings.models import Booking
from navaia_app.core.db import session_scope
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger, log_scope, mask_phone
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.outreach.calls import NotEligible
from navaia_app.outreach.eligibility import check_eligibility
from navaia_app.outreach.models import CampaignCall
from navaia_app.reminders import calling, planning, service
from navaia_app.reminders.models import BookingReminder, SmsMessage
from navaia_app.telephony.base import PlacementError
from navaia_app.telephony.sms import SmsRequest, get_sms_provider

log = get_logger(__name__)

BATCH = 200


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
    """Why this reminder must not go now (it is settled or moved accordingly), or None. Whether the customer
    may be reached on this channel at this hour is the outbound pipeline's one eligibility rule."""
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
    if customer is None:
        return settle("skipped", "Not sent: the customer no longer exists.", next_channel=True)
    verdict = check_eligibility(contact=customer, channel=reminder.channel, now=now,
                                window=planning.window_of(settings))
    if verdict.verdict == "never":
        return settle("skipped", f"Not sent: {verdict.reason}.", next_channel=True)
    if verdict.verdict == "later":  # a late run (a worker was down): wait for the allowed hours
        if verdict.at > booking.starts_at - planning.MIN_NOTICE:
            return settle("skipped", "Not sent: no allowed time is left before the booking.")
        reminder.due_at, reminder.updated_at = verdict.at, now
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
        if reminder.channel == "call":
            if not _claim(session, reminder, "sent", now, sent_at=now, provider="outbound"):
                session.rollback()
                return "taken"
            try:  # (no savepoint: request_call refuses before it writes anything)
                call = calling.place(session, reminder=reminder, now=now)
            except NotEligible as exc:  # changed since the check above: the next channel goes
                service.record_unreachable(session=session, reminder=reminder, result="failed", now=now,
                                           status="skipped", detail=f"Not called: {exc.message}")
                return "skipped"
            reminder.outbound_call_id = call.id
            session.add(reminder)
            bump(session, "bookings")
            log.info("reminder.call_requested", reminder_id=reminder.id, booking_id=booking.id,
                     outbound_call_id=call.id)
            return "call"
        settings = planning.load_settings(session)
        variables = service.reminder_variables(booking=booking, customer=customer, settings=settings)
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
            BookingReminder.status == "sending",
            BookingReminder.updated_at < now - timedelta(seconds=get_settings().reminders_stuck_seconds))
            .limit(BATCH)))
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


def withdraw_stale_calls(now: datetime) -> int:
    """Reminder calls still waiting in the pipeline for a booking that changed meanwhile (moved, cancelled,
    deleted) are withdrawn before they ring; the pipeline settles the reminder (reminders/policy.py)."""
    with session_scope() as session:
        rows = list(session.exec(
            select(BookingReminder.outbound_call_id).join(Booking, Booking.id == BookingReminder.booking_id,
                                                          isouter=True)
            .join(CampaignCall, CampaignCall.id == BookingReminder.outbound_call_id)
            .where(BookingReminder.channel == "call", BookingReminder.status == "sent",
                   CampaignCall.status == "pending",
                   sa.or_(Booking.id.is_(None), Booking.status.notin_(planning.UPCOMING),
                          Booking.starts_at != BookingReminder.booking_starts_at))
            .limit(BATCH)))
        for call_id in rows:
            calling.withdraw(session, call_id, now)
    return len(rows)


def run(now: datetime | None = None, *, limit: int = BATCH) -> dict[str, int]:
    """One pass: recover, settle finished calls, send what is due (several batches while work is left)."""
    now = now or utcnow()
    counts: dict[str, int] = {"recovered": recover_stuck(now), "withdrawn": withdraw_stale_calls(now)}
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
    if len(counts) > 2 or counts["recovered"] or counts["withdrawn"]:
        log.info("reminders.run", **counts)
    return counts
