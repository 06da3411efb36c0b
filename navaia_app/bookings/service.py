"""Bookings: every rule about when something can be booked, moving bookings along, and finding and counting them.

- No double booking: two bookings of the same resource (the business, later a person or a room) that hold
  overlapping times are refused, also when two requests race (the check and the insert run under a
  per-resource lock: a PostgreSQL advisory lock; SQLite's single writer lock).
- A booking starts in the future and lies inside the opening hours (BUSINESS_HOURS in BUSINESS_TIMEZONE).
  Seeding and imports of historic bookings say so explicitly with `enforce_schedule=False`.
- Workflow: pending -> confirmed -> completed | no_show; pending or confirmed -> cancelled.
- Times are stored in UTC; people see them in their own and the customer's time zone.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, or_, select

from navaia_app.activity.service import ActivityView, delete_with_timeline, list_activity, record_activity
from navaia_app.bookings import listeners as booking_listeners
from navaia_app.bookings.models import BOOKING_STATUSES, Booking, BookingOut, BookingPatch
from navaia_app.core.db import get_or_not_found, lock_until_commit, row_exists
from navaia_app.core.errors import Conflict, ValidationFailed
from navaia_app.core.filters import equal_to, like_escape, one_of, page_bounds, time_range
from navaia_app.core.hours import OpeningHours
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.zones import business_zone, local_datetime
from navaia_app.core.validation import clean_text, patch_changes, raise_first
from navaia_app.customers.models import Customer
from navaia_app.tickets.models import SOURCES
from navaia_app.webhooks_out import outbox

log = get_logger(__name__)

UPCOMING_STATUSES = ("pending", "confirmed")
FREE_STATUSES = ("cancelled",)  # a booking in these no longer holds its slot
FINAL_STATUSES = ("cancelled", "completed", "no_show")
MIN_DURATION, MAX_DURATION = 5, 480
MAX_SERVICE, MAX_NOTES, MAX_RESOURCE = 120, 4000, 60
MAX_PAGE = 200
MAX_SLOT_RANGE = timedelta(days=62)
DEFAULT_RESOURCE = "business"
SUBJECT = "booking"

STATUS_LABELS = {"pending": "Pending", "confirmed": "Confirmed", "cancelled": "Cancelled",
                 "completed": "Completed", "no_show": "No-show"}
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "pending": ("confirmed", "cancelled"),
    "confirmed": ("completed", "no_show", "cancelled"),
    "cancelled": (),
    "completed": (),
    "no_show": (),
}
SORTABLE = {"starts_at": Booking.starts_at, "created_at": Booking.created_at, "updated_at": Booking.updated_at,
            "id": Booking.id}


# --- helpers -----------------------------------------------------------------------------------------


def opening_hours() -> OpeningHours:
    """BUSINESS_HOURS, parsed: when bookings may start and end, in the business time zone."""
    return get_settings().opening_hours


def slot_minutes() -> int:
    """The length of a booking when none is given (BOOKING_SLOT_MINUTES)."""
    return get_settings().booking_slot_minutes



def _aware(value: Any, field: str, label: str = "Time") -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"{label} must be a date and time with a time zone (e.g. 2026-03-18T10:00:00+01:00).",
                               field=field)
    return value.astimezone(timezone.utc)


def describe_time(start: datetime, end: datetime | None = None, zone: ZoneInfo | None = None) -> str:
    """'Wed 2026-03-18 10:00-10:30 CET' in `zone` (default: the business's)."""
    zone = zone or business_zone()
    local = start.astimezone(zone)
    text = f"{local:%a %Y-%m-%d %H:%M}"
    if end is not None:
        text += f"-{end.astimezone(zone):%H:%M}"
    return f"{text} {local.tzname()}"


def _describe_slot(booking: Booking) -> str:
    return describe_time(booking.starts_at, booking.ends_at)


def _lock_resource(session: Session, resource: str) -> None:
    """Serialize bookings of one resource until the transaction ends, so two can't take the same slot."""
    lock_until_commit(session, f"booking:{resource}", sqlite_table="bookings")


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


def check_schedule(*, starts_at: datetime, ends_at: datetime, now: datetime | None = None) -> None:
    """Refuse a time in the past or outside the opening hours, saying which and why."""
    now = now or utcnow()
    if starts_at < now:
        raise ValidationFailed(f"That time is in the past ({describe_time(starts_at)}); choose a time from now on.",
                               field="starts_at")
    zone, hours = business_zone(), opening_hours()
    if not hours.contains(starts_at.astimezone(zone), ends_at.astimezone(zone)):
        local = starts_at.astimezone(zone)
        today = hours.intervals(local.date())
        when = (f"on {local:%A}s the business is open "
                + ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in today)
                if today else f"the business is closed on {local:%A}s")
        raise ValidationFailed(
            f"That time is outside opening hours ({describe_time(starts_at, ends_at)}: {when}; "
            f"opening hours: {hours.describe()}, {zone.key}).", field="starts_at")


def _check_duration(duration_minutes: Any, errors: dict[str, str]) -> None:
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        errors["duration_minutes"] = "Duration must be a whole number of minutes."
    elif not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        errors["duration_minutes"] = f"Duration must be between {MIN_DURATION} and {MAX_DURATION} minutes."


def _clean_text(field: str, value: Any, limit: int, errors: dict[str, str], *, required: bool = False) -> str:
    return clean_text(value, limit, errors, field=field, label={"service": "Service", "notes": "Notes", "resource": "Resource"}[field], required=required)


def _to_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


# --- create ----------------------------------------------------------------------------------------


def create_booking(
    *, session: Session, customer_id: int, service: str, starts_at: datetime, duration_minutes: int | None = None,
    status: str = "pending", notes: str = "", source: str = "manual", conversation_id: int | None = None,
    resource: str = DEFAULT_RESOURCE, enforce_schedule: bool = True, actor_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book `service` for a customer at `starts_at` (any time zone; stored in UTC, to the minute).

    Refused with the reason: a time in the past or outside opening hours (ValidationFailed), or one that
    overlaps another booking of the same resource (Conflict). `enforce_schedule=False` is only for seeding
    and importing historic bookings: it skips the past/opening-hours rules and allows a final status;
    the overlap rule always holds. `duration_minutes` defaults to BOOKING_SLOT_MINUTES.
    """
    errors: dict[str, str] = {}
    service = _clean_text("service", service, MAX_SERVICE, errors, required=True)
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None or starts_at.utcoffset() is None:
        errors["starts_at"] = "Start time must be a date and time with a time zone."
    if duration_minutes is None:
        duration_minutes = slot_minutes()
    _check_duration(duration_minutes, errors)
    status = (status or "").strip().lower()
    if status not in BOOKING_STATUSES:
        errors["status"] = f"Status must be one of: {', '.join(BOOKING_STATUSES)}."
    elif enforce_schedule and status not in UPCOMING_STATUSES:
        errors["status"] = "A new booking is pending or confirmed."
    source = (source or "").strip().lower()
    if source not in SOURCES:
        errors["source"] = f"Source must be one of: {', '.join(SOURCES)}."
    notes = _clean_text("notes", notes, MAX_NOTES, errors)
    resource = _clean_text("resource", resource, MAX_RESOURCE, errors, required=True)
    raise_first(errors)
    if customer_id is None or session.get(Customer, customer_id) is None:
        raise ValidationFailed(f"Customer {customer_id} does not exist.", field="customer_id")
    if conversation_id is not None and not row_exists(session, "conversations", conversation_id):
        raise ValidationFailed(f"Conversation {conversation_id} does not exist.", field="conversation_id")

    now = now or utcnow()
    starts = _to_minute(starts_at.astimezone(timezone.utc))
    ends = starts + timedelta(minutes=duration_minutes)
    if enforce_schedule:
        check_schedule(starts_at=starts, ends_at=ends, now=now)
    if status not in FREE_STATUSES:
        _lock_resource(session, resource)
        other = find_overlap(session=session, resource=resource, starts_at=starts, ends_at=ends)
        if other is not None:
            raise Conflict(f"That time overlaps another booking ({other.service}, {_describe_slot(other)}).",
                           field="starts_at")
    booking = Booking(
        customer_id=customer_id, service=service, starts_at=starts, ends_at=ends,
        duration_minutes=duration_minutes, status=status, notes=notes, source=source,
        conversation_id=conversation_id, resource=resource, created_at=now, updated_at=now,
    )
    session.add(booking)
    session.flush()
    record_activity(session, subject_type=SUBJECT, subject_id=booking.id, kind="created", actor_id=actor_id,
                    to_value=status, at=now)
    booking_listeners.changed(session=session, booking=booking, reason="created", now=now)  # reminders re-plan
    bump(session, "bookings")  # open pages reload
    outbox.emit_record(session, "booking.created", BookingOut, booking)  # same transaction: the outbox
    log.info("booking.created", booking_id=booking.id, customer_id=customer_id, source=source, status=status,
             resource=resource, actor_id=actor_id)
    return booking


# --- read ------------------------------------------------------------------------------------------


def get_booking(*, session: Session, booking_id: int) -> Booking:
    """The booking with this id. Raises NotFound."""
    return get_or_not_found(session, Booking, booking_id, "Booking")



def list_bookings(
    *, session: Session, status: str | Iterable[str] | None = None, customer_id: int | None = None,
    source: str | Iterable[str] | None = None, conversation_id: int | None = None,
    starts_from: datetime | None = None, starts_to: datetime | None = None, resource: str | None = None,
    customer_q: str | None = None, sort: str = "starts_at", descending: bool = False,
    limit: int = 25, offset: int = 0,
) -> tuple[list[Booking], int]:
    """One page of bookings by start time (starts_from <= starts_at < starts_to) and the total that match.

    `customer_q` finds bookings of customers whose name, email or phone contains it.
    """
    limit, offset = page_bounds(sort, SORTABLE, limit, offset, MAX_PAGE)
    conditions = [
        *one_of(Booking.status, status, BOOKING_STATUSES, "status"),
        *one_of(Booking.source, source, SOURCES, "source"),
        *equal_to((Booking.customer_id, customer_id), (Booking.conversation_id, conversation_id),
                  (Booking.resource, resource or None)),
        *time_range(Booking.starts_at, ("starts_from", starts_from), ("starts_to", starts_to)),
    ]
    if customer_q and customer_q.strip():
        text = customer_q.strip().lower()[:200]
        like = f"%{like_escape(text)}%"
        matches = [func.lower(Customer.name).like(like, escape="\\"),
                   func.lower(Customer.email).like(like, escape="\\")]
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) >= 3:
            matches.append(Customer.phone.like(f"%{digits}%"))
        conditions.append(Booking.customer_id.in_(select(Customer.id).where(or_(*matches))))
    column = SORTABLE[sort]
    order = [column.desc(), Booking.id.desc()] if descending else [column.asc(), Booking.id.asc()]
    items = list(session.exec(select(Booking).where(*conditions).order_by(*order).limit(limit).offset(offset)))
    if offset == 0 and len(items) < limit:
        total = len(items)
    else:
        total = session.exec(select(func.count()).select_from(Booking).where(*conditions)).one()
    return items, total


@dataclass
class BookingView:
    """A booking with what a list or a calendar shows beside it."""

    booking: Booking
    customer_name: str
    customer_timezone: str | None


def bookings_between(
    *, session: Session, start: datetime, end: datetime, resource: str | None = None,
    include_cancelled: bool = True, limit: int = 2000,
) -> list[BookingView]:
    """Bookings that overlap [start, end), by start time, with their customer (a calendar week)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    conditions = [Booking.starts_at < end, Booking.starts_at >= start - timedelta(minutes=MAX_DURATION),
                  Booking.ends_at > start]
    if resource:
        conditions.append(Booking.resource == resource)
    if not include_cancelled:
        conditions.append(Booking.status.notin_(FREE_STATUSES))
    rows = session.exec(
        select(Booking, Customer.name, Customer.timezone).join(Customer, Customer.id == Booking.customer_id)
        .where(*conditions).order_by(Booking.starts_at, Booking.id).limit(limit)
    )
    return [BookingView(booking=b, customer_name=name, customer_timezone=tz) for b, name, tz in rows]


def resources_in_use(*, session: Session) -> list[str]:
    """The resources bookings exist for; the business always comes first."""
    names = set(session.exec(select(Booking.resource).distinct()))
    names.discard(DEFAULT_RESOURCE)
    return [DEFAULT_RESOURCE, *sorted(names)]


@dataclass
class BookingDetail:
    booking: Booking
    customer: Customer | None
    activity: list[ActivityView]


def get_booking_detail(*, session: Session, booking_id: int) -> BookingDetail:
    """A booking with its customer and its activity timeline, oldest first (the call that made it, if any,
    is `booking.conversation_id`). Raises NotFound."""
    booking = get_booking(session=session, booking_id=booking_id)
    return BookingDetail(
        booking=booking,
        customer=session.get(Customer, booking.customer_id),
        activity=list_activity(session, subject_type=SUBJECT, subject_id=booking.id),
    )


def booking_activity(*, session: Session, booking_id: int) -> list[ActivityView]:
    """The activity timeline of a booking (who changed what, and comments), oldest first."""
    return list_activity(session, subject_type=SUBJECT, subject_id=booking_id)


# --- free slots --------------------------------------------------------------------------------------


def free_slots(
    *, session: Session, start: datetime, end: datetime, duration_minutes: int | None = None,
    resource: str = DEFAULT_RESOURCE, ignore_booking_id: int | None = None, now: datetime | None = None,
) -> list[datetime]:
    """The UTC start times, start <= t < end, at which a booking of `duration_minutes` (default: the slot length)
    fits: inside opening hours, not in the past, overlapping no booking of `resource`.

    Slots start at opening time and then every BOOKING_SLOT_MINUTES. `ignore_booking_id` leaves one booking out
    (the one being rescheduled).
    """
    errors: dict[str, str] = {}
    start, end = _aware(start, "start", "Start"), _aware(end, "end", "End")
    if end <= start:
        raise ValidationFailed("The end must be after the start.", field="end")
    if end - start > MAX_SLOT_RANGE:
        raise ValidationFailed(f"Ask for at most {MAX_SLOT_RANGE.days} days of free slots at a time.", field="end")
    step = slot_minutes()
    duration = step if duration_minutes is None else duration_minutes
    _check_duration(duration, errors)
    raise_first(errors)
    now = now or utcnow()
    lower = max(start, now)
    if lower >= end:
        return []
    zone, hours = business_zone(), opening_hours()
    length = timedelta(minutes=duration)

    held = session.exec(
        select(Booking.starts_at, Booking.ends_at).where(
            Booking.resource == resource, Booking.status.notin_(FREE_STATUSES),
            Booking.starts_at < end + length, Booking.ends_at > lower,
            *([Booking.id != ignore_booking_id] if ignore_booking_id is not None else []),
        ).order_by(Booking.ends_at)
    ).all()
    ends = [e for _, e in held]

    def is_free(slot_start: datetime, slot_end: datetime) -> bool:
        # Any held booking that ends after the slot starts and starts before it ends overlaps it.
        index = bisect.bisect_right(ends, slot_start)
        return not any(s < slot_end for s, _ in held[index:index + 64])

    slots: list[datetime] = []
    day = lower.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    while day <= last_day:
        for open_, close in hours.intervals(day):
            minute = open_
            while minute + duration <= close:
                slot_start = local_datetime(day, minute, zone).astimezone(timezone.utc)
                minute += step
                if slot_start < lower:
                    continue
                if slot_start >= end:
                    break
                if is_free(slot_start, slot_start + length):
                    slots.append(slot_start)
        day += timedelta(days=1)
    return slots


# --- change ----------------------------------------------------------------------------------------


def check_transition(current: str, target: str) -> None:
    """Allow a status change that NEXT_STATUSES permits (or no change at all). Raises Conflict (field "status")
    saying which statuses the booking may go to instead.
    """
    if target == current or target in NEXT_STATUSES.get(current, ()):
        return
    allowed = NEXT_STATUSES.get(current, ())
    if not allowed:
        raise Conflict(f"The booking is {STATUS_LABELS[current].lower()}; its status can no longer change.",
                       field="status")
    raise Conflict(f"A booking cannot go from {STATUS_LABELS[current].lower()} to {STATUS_LABELS[target].lower()}; "
                   f"from {STATUS_LABELS[current].lower()} it can only become "
                   f"{' or '.join(STATUS_LABELS[s].lower() for s in allowed)}.", field="status")


def update_booking(
    *, session: Session, booking_id: int, patch: BookingPatch | dict[str, Any], actor_id: int | None = None,
    enforce_schedule: bool = True, now: datetime | None = None,
) -> Booking:
    """Change the fields given. A new time, duration or resource reschedules under the same rules as a new
    booking; a status moves through the workflow; each writes an activity entry."""
    changes = patch_changes(patch, BookingPatch)
    booking = get_or_not_found(session, Booking, booking_id, "Booking", lock=True)
    now = now or utcnow()

    errors: dict[str, str] = {}
    new: dict[str, Any] = {}
    if "service" in changes:
        new["service"] = _clean_text("service", changes["service"], MAX_SERVICE, errors, required=True)
    if "notes" in changes:
        new["notes"] = _clean_text("notes", changes["notes"], MAX_NOTES, errors)
    if "resource" in changes:
        new["resource"] = _clean_text("resource", changes["resource"], MAX_RESOURCE, errors, required=True)
    if "status" in changes:
        status = (changes["status"] or "").strip().lower() if isinstance(changes["status"], str) else ""
        if status not in BOOKING_STATUSES:
            errors["status"] = f"Status must be one of: {', '.join(BOOKING_STATUSES)}."
        new["status"] = status
    if "starts_at" in changes:
        value = changes["starts_at"]
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            errors["starts_at"] = "Start time must be a date and time with a time zone."
        else:
            new["starts_at"] = _to_minute(value.astimezone(timezone.utc))
    if "duration_minutes" in changes:
        _check_duration(changes["duration_minutes"], errors)
        new["duration_minutes"] = changes["duration_minutes"]
    raise_first(errors)
    if "customer_id" in changes:
        if changes["customer_id"] is None or session.get(Customer, changes["customer_id"]) is None:
            raise ValidationFailed(f"Customer {changes['customer_id']} does not exist.", field="customer_id")
        new["customer_id"] = changes["customer_id"]

    changed = {field: value for field, value in new.items() if getattr(booking, field) != value}
    if not changed:
        return booking
    if "status" in changed:
        check_transition(booking.status, changed["status"])
        if changed["status"] in ("completed", "no_show") and booking.starts_at > now:
            raise Conflict(f"The booking starts {describe_time(booking.starts_at)}; it can be marked "
                           f"{STATUS_LABELS[changed['status']].lower()} once it has started.", field="status")
    moves = {"starts_at", "duration_minutes", "resource"} & set(changed)
    if moves:
        if booking.status in FINAL_STATUSES or changed.get("status") in FINAL_STATUSES:
            state = STATUS_LABELS[changed.get("status", booking.status)].lower()
            raise Conflict(f"A {state} booking cannot be rescheduled.", field="starts_at")
        starts = changed.get("starts_at", booking.starts_at)
        ends = starts + timedelta(minutes=changed.get("duration_minutes", booking.duration_minutes))
        resource = changed.get("resource", booking.resource)
        if enforce_schedule:
            check_schedule(starts_at=starts, ends_at=ends, now=now)
        _lock_resource(session, resource)
        other = find_overlap(session=session, resource=resource, starts_at=starts, ends_at=ends, except_id=booking.id)
        if other is not None:
            raise Conflict(f"That time overlaps another booking ({other.service}, {_describe_slot(other)}).",
                           field="starts_at")
        record_activity(session, subject_type=SUBJECT, subject_id=booking.id, kind="rescheduled", actor_id=actor_id,
                        from_value=_slot_value(booking.starts_at, booking.duration_minutes, booking.resource),
                        to_value=_slot_value(starts, int((ends - starts).total_seconds() // 60), resource), at=now)
        booking.starts_at, booking.ends_at, booking.resource = starts, ends, resource
        booking.duration_minutes = int((ends - starts).total_seconds() // 60)
    if "status" in changed:
        record_activity(session, subject_type=SUBJECT, subject_id=booking.id, kind="status", actor_id=actor_id,
                        from_value=booking.status, to_value=changed["status"], at=now)
        log.info("booking.status_changed", booking_id=booking.id, from_status=booking.status,
                 to_status=changed["status"], actor_id=actor_id)
        booking.status = changed["status"]
    for field in ("service", "notes", "customer_id"):
        if field in changed:
            if field != "notes":
                record_activity(session, subject_type=SUBJECT, subject_id=booking.id, kind=field, actor_id=actor_id,
                                from_value=getattr(booking, field), to_value=changed[field], at=now)
            else:
                record_activity(session, subject_type=SUBJECT, subject_id=booking.id, kind="edited",
                                actor_id=actor_id, body="notes", at=now)
            setattr(booking, field, changed[field])
    booking.updated_at = now
    session.add(booking)
    session.flush()
    replan = "moved" if moves else "status" if "status" in changed else "customer" if "customer_id" in changed \
        else None
    if replan:  # in this transaction: the reminders are always those of the booking as it stands
        booking_listeners.changed(session=session, booking=booking, reason=replan, now=now)
    bump(session, "bookings")
    kind = "booking.cancelled" if changed.get("status") == "cancelled" else "booking.updated"
    outbox.emit_record(session, kind, BookingOut, booking, changed=sorted(changed))
    log.info("booking.updated", booking_id=booking.id, fields=sorted(changed), actor_id=actor_id)
    return booking


def _slot_value(starts: datetime, minutes: int, resource: str) -> str:
    # ISO start (UTC), duration and resource: the timeline shows it in the viewer's time zone.
    return f"{starts.astimezone(timezone.utc).isoformat()}|{minutes}|{resource}"


def parse_slot_value(value: str | None) -> tuple[datetime, int, str] | None:
    """A free-slot choice as the pages send it ("<ISO start>|<minutes>|<resource>") as (start, minutes,
    resource); None when it is empty or not in that form.
    """
    if not value:
        return None
    try:
        start, minutes, resource = value.split("|", 2)
        return datetime.fromisoformat(start), int(minutes), resource
    except ValueError:
        return None


def change_booking_status(
    *, session: Session, booking_id: int, status: str, actor_id: int | None = None, now: datetime | None = None,
) -> Booking:
    """Move a booking through its workflow; a move it does not allow is refused (Conflict) with the reason."""
    return update_booking(session=session, booking_id=booking_id, patch={"status": status}, actor_id=actor_id,
                          now=now)


def reschedule_booking(
    *, session: Session, booking_id: int, starts_at: datetime, duration_minutes: int | None = None,
    actor_id: int | None = None, now: datetime | None = None,
) -> Booking:
    """Move a booking to `starts_at` (and optionally change its length) with every rule of `update_booking`:
    opening hours, no overlap on its resource, a status that still allows moving; recorded on its timeline.
    Raises what update_booking raises (NotFound, ValidationFailed, Conflict).
    """
    changes: dict[str, Any] = {"starts_at": starts_at}
    if duration_minutes is not None:
        changes["duration_minutes"] = duration_minutes
    return update_booking(session=session, booking_id=booking_id, patch=changes, actor_id=actor_id, now=now)


def delete_booking(*, session: Session, booking_id: int, actor=None) -> None:
    """Delete a booking and its timeline; the call that made it stays, unlinked; audited (`booking.deleted`).
    Raises NotFound.
    """
    booking = get_booking(session=session, booking_id=booking_id)
    booking_listeners.deleting(session=session, booking_id=booking_id)
    delete_with_timeline(session, booking, subject_type=SUBJECT, table="bookings", actor=actor)


# --- figures -----------------------------------------------------------------------------------------


def count_upcoming_bookings(*, session: Session, now: datetime) -> int:
    """Bookings still expected to happen: pending or confirmed, starting from now on."""
    return session.exec(
        select(func.count()).select_from(Booking)
        .where(Booking.status.in_(UPCOMING_STATUSES), Booking.starts_at >= now)
    ).one()


def bookings_per_day(*, session: Session, now: datetime, zone: ZoneInfo, days: int = 14) -> list[tuple[date, int]]:
    """Bookings still held (not cancelled) per day in `zone`, for `days` days from today on."""
    from navaia_app.tickets.service import _count_per_local_day

    today = now.astimezone(zone).date()
    start = local_datetime(today, 0, zone).astimezone(timezone.utc)
    end = local_datetime(today + timedelta(days=days), 0, zone).astimezone(timezone.utc)
    counts = dict.fromkeys((today + timedelta(days=i) for i in range(days)), 0)
    for day, count in _count_per_local_day(session, Booking.starts_at, start, end, zone,
                                           extra=[Booking.status.notin_(FREE_STATUSES)]):
        if day in counts:
            counts[day] += count
    return sorted(counts.items())
