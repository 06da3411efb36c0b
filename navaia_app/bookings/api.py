from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Query

from navaia_app.auth.deps import CurrentUser
from navaia_app.bookings import service
from navaia_app.bookings.models import Availability, BookingIn, BookingOut, BookingPatch, BookingStatus, Source
from navaia_app.core.api import DB, Page, SIGNED_IN_ERRORS, problem
from navaia_app.core.errors import ValidationFailed
from navaia_app.core.types import DB_INT_MAX, DbInt
from navaia_app.core.zones import business_zone, local_datetime
from navaia_app.tickets.api import _activity_out
from navaia_app.tickets.models import ActivityOut

router = APIRouter(prefix="/api/v1/bookings", tags=["bookings"], responses=SIGNED_IN_ERRORS)

NOT_FOUND = {404: problem("No such booking")}
WHEN_HELP = ("ISO 8601 with an offset (2026-03-18T10:00:00+01:00 or ...Z); a date alone (2026-03-18) means "
             "midnight at its start in BUSINESS_TIMEZONE")


BookingPage = Page[BookingOut]


def _when(value: str | None, field: str) -> datetime | None:
    """A time from a query string. An unencoded '+' arrives as a space: read it as the '+' it was."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return local_datetime(date.fromisoformat(text), 0, business_zone())
        except ValueError as exc:
            raise ValidationFailed(f"{field}: {text!r} is not a date.", field=field) from exc
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed(f"{field}: {text!r} is not a date and time ({WHEN_HELP}).", field=field) from exc
    if parsed.tzinfo is None:
        raise ValidationFailed(f"{field}: give the time with an offset, e.g. {text}+00:00 or {text}Z.", field=field)
    return parsed


@router.get("", response_model=BookingPage, summary="List bookings (paginated, filtered), by start time")
def list_bookings(
    user: CurrentUser, session: DB,
    status: list[BookingStatus] | None = Query(
        None, description="Repeat for several: ?status=pending&status=confirmed"),
    source: list[Source] | None = Query(None),
    customer_id: DbInt | None = None, conversation_id: DbInt | None = None,
    resource: str | None = Query(None, max_length=60, description="Who or what is booked (default resource: business)"),
    starts_from: str | None = Query(None, description=f"starts_at >= this; {WHEN_HELP}"),
    starts_to: str | None = Query(None, description=f"starts_at < this; {WHEN_HELP}"),
    q: str | None = Query(None, max_length=200, description="Customer name, email or phone contains"),
    sort: Literal["starts_at", "created_at", "updated_at", "id"] = "starts_at",
    desc: bool = Query(False, description="Latest first"),
    limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> BookingPage:
    items, total = service.list_bookings(
        session=session, status=status, source=source, customer_id=customer_id, conversation_id=conversation_id,
        resource=resource, starts_from=_when(starts_from, "starts_from"), starts_to=_when(starts_to, "starts_to"),
        customer_q=q, sort=sort, descending=desc, limit=limit, offset=offset)
    return BookingPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/availability", response_model=Availability, summary="Free slots between two times",
            description="Start times (UTC) at which a booking of `duration_minutes` (default: the slot length) fits "
                        "inside opening hours, from now on, without overlapping another booking of `resource`. "
                        "At most 62 days at a time.")
def availability(
    user: CurrentUser, session: DB,
    start: str = Query(..., description=WHEN_HELP), end: str = Query(..., description=WHEN_HELP),
    duration_minutes: int | None = Query(None, ge=5, le=480),
    resource: str = Query(service.DEFAULT_RESOURCE, min_length=1, max_length=60),
) -> Availability:
    slots = service.free_slots(session=session, start=_when(start, "start"), end=_when(end, "end"),
                               duration_minutes=duration_minutes, resource=resource)
    return Availability(slots=slots, slot_minutes=service.slot_minutes(),
                        duration_minutes=duration_minutes or service.slot_minutes(),
                        timezone=business_zone().key, business_hours=service.opening_hours().describe(),
                        resource=resource)


@router.post("", response_model=BookingOut, status_code=201, summary="Book (source `api` unless given)",
             responses={409: problem("Overlaps another booking"),
                        422: problem("Invalid field, in the past or outside opening hours")})
def create_booking(body: BookingIn, user: CurrentUser, session: DB) -> BookingOut:
    return service.create_booking(session=session, actor_id=user.id, **body.model_dump())


@router.get("/{booking_id}", response_model=BookingOut, summary="One booking", responses=NOT_FOUND)
def get_booking(booking_id: DbInt, user: CurrentUser, session: DB) -> BookingOut:
    return service.get_booking(session=session, booking_id=booking_id)


@router.patch("/{booking_id}", response_model=BookingOut,
              summary="Change a booking: reschedule (starts_at, duration_minutes, resource) or move its status",
              responses={**NOT_FOUND, 409: problem("Overlap, or a status change the workflow refuses"),
                         422: problem("Invalid field, in the past or outside opening hours")})
def update_booking(booking_id: DbInt, body: BookingPatch, user: CurrentUser, session: DB) -> BookingOut:
    return service.update_booking(session=session, booking_id=booking_id, patch=body, actor_id=user.id)


@router.delete("/{booking_id}", status_code=204, summary="Delete a booking and its timeline", responses=NOT_FOUND)
def delete_booking(booking_id: DbInt, user: CurrentUser, session: DB) -> None:
    service.delete_booking(session=session, booking_id=booking_id, actor=user)


@router.get("/{booking_id}/activity", response_model=list[ActivityOut], summary="The booking's timeline",
            responses=NOT_FOUND)
def booking_activity(booking_id: DbInt, user: CurrentUser, session: DB) -> list[ActivityOut]:
    service.get_booking(session=session, booking_id=booking_id)
    return [_activity_out(v) for v in service.booking_activity(session=session, booking_id=booking_id)]
