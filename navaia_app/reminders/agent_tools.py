"""The voice agent's tools on a reminder call: confirm, cancel (with a reason) or reschedule the booking the
call is about. Each acts only on the booking its signed call token names (core/call_tokens), never on an
id the model says, and answers with a `message` the agent can read out. A few indexed queries each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from navaia_app.bookings.models import Booking
from navaia_app.conversations.call_binding import bind_call
from navaia_app.core.db import savepoint
from navaia_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.reminders import planning, service

log = get_logger(__name__)


NOT_A_REMINDER_CALL = ("This tool works only on a booking reminder call: its call token names the booking, and "
                       "this call has none.")


def _bound(session: Session, call_token: str | None) -> tuple[Booking, int | None, str]:
    """The booking the call's token names, the reminder, and the customer's zone. A forged or expired token,
    or a call that is not a reminder call, is refused (PermissionDenied, 403)."""
    binding = bind_call(session=session, call_token=call_token)
    booking_id = binding.claims.get("booking_id")
    if binding.proof != "token" or not isinstance(booking_id, int):
        raise PermissionDenied(NOT_A_REMINDER_CALL)
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("The booking this call is about no longer exists.")
    if binding.claims.get("customer_id") not in (None, booking.customer_id):
        raise PermissionDenied("The call token does not match the booking.")
    reminder_id = binding.claims.get("reminder_id")
    reminder_id = reminder_id if isinstance(reminder_id, int) else None
    return booking, reminder_id, planning.zone_name(session.get(Customer, booking.customer_id))


def confirm_booking(*, session: Session, call_token: str | None, now: datetime | None = None) -> dict[str, Any]:
    booking, reminder_id, zone = _bound(session, call_token)
    try:
        with savepoint(session):
            booking = service.confirm_by_customer(session=session, booking_id=booking.id, channel="call",
                                                  reminder_id=reminder_id, now=now)
    except Conflict as exc:
        return {"confirmed": False, "booking_id": booking.id, "message": exc.message}
    return {"confirmed": True, "booking_id": booking.id, "status": booking.status,
            "message": f"The {booking.service} on {planning.spoken_start(booking.starts_at, zone)} is confirmed."}


def cancel_booking(*, session: Session, call_token: str | None, reason: str | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    booking, reminder_id, zone = _bound(session, call_token)
    when = planning.spoken_start(booking.starts_at, zone)
    try:
        with savepoint(session):
            booking = service.cancel_by_customer(session=session, booking_id=booking.id, channel="call",
                                                 reason=reason or "", reminder_id=reminder_id, now=now)
    except Conflict as exc:
        return {"cancelled": False, "booking_id": booking.id, "message": exc.message}
    return {"cancelled": True, "booking_id": booking.id, "status": booking.status,
            "message": f"The {booking.service} on {when} is cancelled."}


def reschedule_booking(*, session: Session, call_token: str | None, appointment_datetime: Any = None,
                       now: datetime | None = None) -> dict[str, Any]:
    """Without a time: the free times to offer. With one: move the booking there, or say why not and offer
    the nearest free times."""
    from navaia_app.conversations.service import parse_appointment_time

    now = now or utcnow()
    booking, reminder_id, zone = _bound(session, call_token)
    if booking.status not in planning.UPCOMING:
        return {"rescheduled": False, "booking_id": booking.id,
                "message": f"The booking is {booking.status.replace('_', '-')}; it cannot be moved."}
    if appointment_datetime in (None, ""):
        slots = service.offer_slots(session=session, booking=booking, now=now)
        return {"rescheduled": False, "booking_id": booking.id, "slots": [_iso(s, zone) for s in slots],
                "message": ("Free times: " + ", ".join(planning.spoken_start(s, zone) for s in slots) + ".")
                if slots else "There is no free time in the next two weeks."}
    from zoneinfo import ZoneInfo

    wanted = parse_appointment_time(appointment_datetime, ZoneInfo(zone))
    if wanted is None:
        raise ValidationFailed("appointment_datetime must be an ISO 8601 date and time.", field="appointment_datetime")
    before = booking.starts_at
    try:
        moved = service.reschedule_by_customer(session=session, booking_id=booking.id, starts_at=wanted,
                                               channel="call", reminder_id=reminder_id, now=now)
    except (Conflict, ValidationFailed) as exc:
        session.expire(booking)
        slots = service.offer_slots(session=session, booking=session.get(Booking, booking.id), now=now, near=wanted)
        log.info("agent_tool.reschedule_refused", booking_id=booking.id, reason=exc.message[:120])
        offer = (" Free times nearby: " + ", ".join(planning.spoken_start(s, zone) for s in slots) + ".") \
            if slots else ""
        return {"rescheduled": False, "booking_id": booking.id, "slots": [_iso(s, zone) for s in slots],
                "message": f"{planning.spoken_start(wanted, zone)} is not available: {exc.message}{offer}"}
    return {"rescheduled": True, "booking_id": moved.id, "starts_at": _iso(moved.starts_at, zone),
            "message": f"Moved the {moved.service} from {planning.spoken_start(before, zone)} to "
                       f"{planning.spoken_start(moved.starts_at, zone)}."}


def _iso(moment: datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)).isoformat()
