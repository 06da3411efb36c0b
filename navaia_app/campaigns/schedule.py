"""Calling windows in each customer's local time: when a call may ring, and when it may next.

Pure functions of instants (UTC-aware datetimes) and IANA zones, so daylight-saving changes are
handled by zoneinfo: a window "09:00-18:00" is 09:00 on the local wall clock whatever the offset
that day. A window whose end is not after its start crosses midnight ("20:00-02:00" belongs to
the day it starts on); equal start and end mean the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from navaia_app.campaigns.models import WEEKDAYS
from navaia_app.core.zones import zone_named

SEARCH_DAYS = 9  # a window that opens on at least one weekday is always found within this many days


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone called `name`, or the business's when it is empty or no longer known (core.zones)."""
    return zone_named(name)


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz`.

    A wall time that does not exist that day (the spring-forward gap) moves to the end of the gap;
    one that happens twice (fall back) is its first occurrence."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:  # in the gap: fold=1 gives the later offset
        later = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
        earlier = utc
        gap_end = min(later, earlier)
        # the first wall-clock instant after the gap
        probe = gap_end
        while probe.astimezone(tz).replace(tzinfo=None) < naive:
            probe += timedelta(minutes=15)
        return probe
    return utc


@lru_cache(maxsize=8192)
def _day_span(start: time, end: time, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a window `start`-`end` opens and closes on `day` in `tz`: computed once per window, day
    and zone (planning thousands of reminders or a campaign's audience asks for the same few days)."""
    opens = _local_instant(day, start, tz)
    if start == end:  # the whole day
        closes = _local_instant(day + timedelta(days=1), start, tz)
    elif end > start:
        closes = _local_instant(day, end, tz)
    else:
        closes = _local_instant(day + timedelta(days=1), end, tz)
    return opens, closes


@dataclass(frozen=True)
class CallingWindow:
    start: time
    end: time
    days: frozenset[int]  # 0 = Monday

    @classmethod
    def of(cls, start: str, end: str, days: str | list[str]) -> CallingWindow:
        names = days.split(",") if isinstance(days, str) else days
        picked = frozenset(WEEKDAYS.index(d.strip().lower()[:3]) for d in names if d.strip())
        return cls(parse_hhmm(start), parse_hhmm(end), picked)

    @property
    def all_day(self) -> bool:
        return self.start == self.end

    def _span(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return _day_span(self.start, self.end, day, tz)

    def contains(self, instant: datetime, tz_name: str) -> bool:
        """Whether the window is open at `instant` in the zone `tz_name`."""
        return self.closes_after(instant, tz_name) is not None

    def next_opening(self, instant: datetime, tz_name: str) -> datetime | None:
        """`instant` itself when the window is open then, else when it next opens (None: never)."""
        if not self.days:
            return None
        if self.contains(instant, tz_name):
            return instant
        tz = zone(tz_name)
        local_day = instant.astimezone(tz).date()
        for offset in range(SEARCH_DAYS):
            day = local_day + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            opens, _ = self._span(day, tz)
            if opens > instant:
                return opens
        return None

    def spans_before(self, day: date, tz_name: str, days: int) -> tuple[tuple[datetime, datetime], ...]:
        """The allowed periods (opens, closes) of the `days` days up to and including `day` in the zone, in
        order: what one local day needs to answer `contains` and the latest close before an instant with
        comparisons only (planning many reminders asks this once per zone and day)."""
        tz = zone(tz_name)
        return tuple(self._span(d, tz) for d in (day - timedelta(days=n) for n in range(days - 1, -1, -1))
                     if d.weekday() in self.days)

    def closes_after(self, instant: datetime, tz_name: str) -> datetime | None:
        """When the window open at `instant` closes (None when it is not open then)."""
        tz = zone(tz_name)
        local_day = instant.astimezone(tz).date()
        for day in (local_day - timedelta(days=1), local_day):
            if day.weekday() not in self.days:
                continue
            opens, closes = self._span(day, tz)
            if opens <= instant < closes:
                return closes
        return None
