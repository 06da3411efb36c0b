"""Bookings: every rule about when something can be booked, and finding and counting bookings."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, func, select

from navaia_app.bookings.models import BOOKING_STATUSES, Booking
from navaia_app.conversations.models import Conversation
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.customers.models import Customer
from navaia_app.tickets.models import SOURCES

log = get_logger(__name__)

UPCOMING_STATUSES = ("pending", "confirmed")
FREE_STATUSES = ("cancelled",)  # a booking in these no longer holds its slot
MIN_DURATION, MAX_DURATION = 5, 480
MAX_SERVICE, MAX_NOTES, MAX_RESOURCE = 120, 4000, 60
MAX_PAGE = 200


def _any_of(value: str | Iterable[str] | None, allowed: tuple[str, ...], field: str) -> list[str] | None:
    """A filter given as one value or several; None when not filtering."""
    if value is None or value == "":
        return None
    values = [value] if isinstance(value, str) else list(value)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationFailed(f"Unknown {field} {unknown[0]!r} (use one of: {', '.join(allowed)}).", field=field)
    return values


def _lock_resource(session: Session, resource: str) -> None:
    """Serialize bookings of one resource until the transaction ends, so two can't take the same slot.

    PostgreSQL only: SQLite already admits one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"booking:{resource}".encode()) - 2**31  # fits a signed 32-bit int
        session.exec(sa.select(sa.func.pg_advisory_xact_lock(key)))


def find_overlap(
    *, session: Session, resource: str, starts_at: datetime, ends_at: datetime, except_id: int | None = None,
) -> Booking | None:
    """A booking of this resource that still holds part of [starts_at, ends_at), if any."""
    stmt = select(Booking).where(
        Booking.resource == resource,
        Booking.status.notin_(FREE_STATUSES),
        Booking.starts_at < ends_at,
        Booking.ends_at > starts_at,
    )
    if except_id is not None:
        stmt = stmt.where(Booking.id != except_id)
    return session.exec(stmt.order_by(Booking.starts_at).limit(1)).first()


def _describe_slot(booking: Booking) -> str:
    zone = ZoneInfo(get_settings().business_timezone)
    start, end = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} {start.tzname()}"


def create_booking(
    *, session: Session, customer_id: int, service: str, starts_at: datetime, duration_minutes: int = 30,
    status: str = "pending", notes: str = "", source: str = "manual", conversation_id: int | None = None,
    resource: str = "business",
) -> Booking:
    errors: dict[str, str] = {}
    service = (service or "").strip()
    if not service:
        errors["service"] = "Service is required."
    elif len(service) > MAX_SERVICE:
        errors["service"] = f"Service is too long ({MAX_SERVICE} characters at most)."
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None or starts_at.utcoffset() is None:
        errors["starts_at"] = "Start time must be a date and time with a time zone."
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        errors["duration_minutes"] = "Duration must be a whole number of minutes."
    elif not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        errors["duration_minutes"] = f"Duration must be between {MIN_DURATION} and {MAX_DURATION} minutes."
    status = (status or "").strip().lower()
    if status not in BOOKING_STATUSES:
        errors["status"] = f"Status must be one of: {', '.join(BOOKING_STATUSES)}."
    source = (source or "").strip().lower()
    if source not in SOURCES:
        errors["source"] = f"Source must be one of: {', '.join(SOURCES)}."
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = f"Notes are too long ({MAX_NOTES:,} characters at most)."
    resource = (resource or "").strip()
    if not resource:
        errors["resource"] = "Resource is required."
    elif len(resource) > MAX_RESOURCE:
        errors["resource"] = f"Resource is too long ({MAX_RESOURCE} characters at most)."
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(errors[first], field=first, errors=errors)
    if customer_id is None or session.get(Customer, customer_id) is None:
        raise ValidationFailed(f"Customer {customer_id} does not exist.", field="customer_id")
    if conversation_id is not None and session.get(Conversation, conversation_id) is None:
        raise ValidationFailed(f"Conversation {conversation_id} does not exist.", field="conversation_id")

    starts = starts_at.astimezone(timezone.utc)
    ends = starts + timedelta(minutes=duration_minutes)
    if status not in FREE_STATUSES:
        _lock_resource(session, resource)
        other = find_overlap(session=session, resource=resource, starts_at=starts, ends_at=ends)
        if other is not None:
            raise Conflict(f"That time overlaps another booking ({other.service}, {_describe_slot(other)}).",
                           field="starts_at")
    booking = Booking(
        customer_id=customer_id, service=service, starts_at=starts, ends_at=ends,
        duration_minutes=duration_minutes, status=status, notes=notes, source=source,
        conversation_id=conversation_id, resource=resource,
    )
    session.add(booking)
    session.flush()
    bump(session, "bookings")  # open pages reload
    log.info("booking.created", booking_id=booking.id, customer_id=customer_id, source=source, status=status,
             resource=resource)
    return booking


def get_booking(*, session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"Booking {booking_id} not found.")
    return booking


def list_bookings(
    *, session: Session, status: str | Iterable[str] | None = None, customer_id: int | None = None,
    source: str | None = None, conversation_id: int | None = None, starts_from: datetime | None = None,
    starts_to: datetime | None = None, resource: str | None = None, descending: bool = False,
    limit: int = 25, offset: int = 0,
) -> tuple[list[Booking], int]:
    """One page of bookings by start time (starts_from <= starts_at < starts_to) and the total that match."""
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    conditions = []
    statuses = _any_of(status, BOOKING_STATUSES, "status")
    if statuses is not None:
        conditions.append(Booking.status.in_(statuses))
    sources = _any_of(source, SOURCES, "source")
    if sources is not None:
        conditions.append(Booking.source.in_(sources))
    if customer_id is not None:
        conditions.append(Booking.customer_id == customer_id)
    if conversation_id is not None:
        conditions.append(Booking.conversation_id == conversation_id)
    if resource:
        conditions.append(Booking.resource == resource)
    for field, bound in (("starts_from", starts_from), ("starts_to", starts_to)):
        if bound is not None and bound.tzinfo is None:
            raise ValidationFailed("Give the time with a time zone.", field=field)
    if starts_from is not None:
        conditions.append(Booking.starts_at >= starts_from)
    if starts_to is not None:
        conditions.append(Booking.starts_at < starts_to)
    order = [Booking.starts_at.desc(), Booking.id.desc()] if descending else [Booking.starts_at, Booking.id]
    items = list(session.exec(select(Booking).where(*conditions).order_by(*order).limit(limit).offset(offset)))
    total = session.exec(select(func.count()).select_from(Booking).where(*conditions)).one()
    return items, total


def count_upcoming_bookings(*, session: Session, now: datetime) -> int:
    """Bookings still expected to happen: pending or confirmed, starting from now on."""
    return session.exec(
        select(func.count()).select_from(Booking)
        .where(Booking.status.in_(UPCOMING_STATUSES), Booking.starts_at >= now)
    ).one()
