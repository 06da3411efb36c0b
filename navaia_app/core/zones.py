"""Which time zone a moment is read in: the one home of "this zone, or the business zone".

Everything is stored in UTC; a person reads it in a zone: the viewer's (the browser's), the customer's
(`Customer.timezone`), or, when either is empty or no longer known, the business's (BUSINESS_TIMEZONE).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from navaia_app.core.errors import ValidationFailed
from navaia_app.core.settings import get_settings
from navaia_app.core.validation import validate_timezone


def business_zone() -> ZoneInfo:
    """BUSINESS_TIMEZONE (validated when the settings load, so this never raises)."""
    return ZoneInfo(get_settings().business_timezone)


def zone_named(name: str | None) -> ZoneInfo:
    """The zone called `name` (any spelling of an IANA name), or the business's when it is empty or
    unknown (a zone removed from tzdata since it was stored). Never raises."""
    try:
        canonical = validate_timezone(name)
    except ValidationFailed:
        canonical = None
    return ZoneInfo(canonical) if canonical else business_zone()


def customer_zone(customer: object | None) -> ZoneInfo:
    """The zone of a customer (anything with a `timezone` attribute), or the business's."""
    return zone_named(getattr(customer, "timezone", None))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of `day` on the wall clock of `zone`, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=zone)


def start_of_day(moment: datetime, zone: ZoneInfo) -> datetime:
    """The start of the day `moment` falls on in `zone` (an aware datetime)."""
    return local_midnight(moment.astimezone(zone).date(), zone)


def local_datetime(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The wall-clock time `minutes` after midnight of `day` in `zone` (24:00 is the next midnight)."""
    return local_midnight(day, zone) + timedelta(minutes=minutes)
