"""Opening hours: parsed from BUSINESS_HOURS ("mon-fri 09:00-17:00; sat 10:00-14:00"), asked by the rules.

Kept free of the rest of the app, so the settings can validate BUSINESS_HOURS with it at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_ALIASES = {
    **{d: i for i, d in enumerate(DAYS)},
    **{name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                         "sunday"))},
    "tues": 1, "wednes": 2, "thur": 3, "thurs": 3,
}
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")

Interval = tuple[int, int]  # minutes since local midnight: [open, close), close may be 1440


class HoursFormatError(ValueError):
    """BUSINESS_HOURS cannot be read; the message says where and how to write it."""


def _minutes(text: str, segment: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise HoursFormatError(f"{text.strip()!r} in {segment!r} is not a time (write HH:MM, e.g. 09:00)")
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursFormatError(f"{text.strip()!r} in {segment!r} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


def _day(text: str, segment: str) -> int:
    index = _DAY_ALIASES.get(text.strip().lower())
    if index is None:
        raise HoursFormatError(f"{text.strip()!r} in {segment!r} is not a weekday (use mon, tue, ... sun)")
    return index


def _days(spec: str, segment: str) -> list[int]:
    spec = spec.strip().lower()
    if spec in ("daily", "everyday", "every-day", "all"):
        return list(range(7))
    days: list[int] = []
    for part in spec.split(","):
        if not part.strip():
            continue
        if "-" in part:
            first, last = (_day(p, segment) for p in part.split("-", 1))
            index = first
            while True:  # ranges may wrap: fri-mon is Fri, Sat, Sun, Mon
                days.append(index)
                if index == last:
                    break
                index = (index + 1) % 7
        else:
            days.append(_day(part, segment))
    if not days:
        raise HoursFormatError(f"{segment!r} names no weekday")
    return days


def _merge(intervals: list[Interval]) -> tuple[Interval, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class OpeningHours:
    """When the business is open, per weekday (Monday first), in its own time zone."""

    by_weekday: tuple[tuple[Interval, ...], ...]

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Read "mon-fri 09:00-17:00; sat 10:00-14:00" (several ranges a day: "mon 09:00-12:00,13:00-17:00";
        "sun closed"). Days not named are closed."""
        per_day: list[list[Interval]] = [[] for _ in range(7)]
        closed: set[int] = set()
        segments = [s.strip() for s in re.split(r"[;\n]", text or "") if s.strip()]
        if not segments:
            raise HoursFormatError("no opening hours given (e.g. 'mon-fri 09:00-17:00')")
        for segment in segments:
            parts = segment.split(None, 1)
            if len(parts) != 2:
                raise HoursFormatError(f"{segment!r} needs weekdays and hours, e.g. 'mon-fri 09:00-17:00'")
            days = _days(parts[0], segment)
            ranges = parts[1].strip()
            if ranges.lower() == "closed":
                closed.update(days)
                continue
            for piece in ranges.replace(" ", "").split(","):
                if piece.count("-") != 1:
                    raise HoursFormatError(f"{piece!r} in {segment!r} is not a time range (write 09:00-17:00)")
                start, end = (_minutes(p, segment) for p in piece.split("-"))
                if end <= start:
                    raise HoursFormatError(f"{piece!r} in {segment!r} ends before it starts (hours cannot pass "
                                           "midnight; split them over two days)")
                for day in days:
                    per_day[day].append((start, end))
        for day in closed:
            per_day[day] = []
        hours = cls(by_weekday=tuple(_merge(intervals) for intervals in per_day))
        if not any(hours.by_weekday):
            raise HoursFormatError("the business is never open; name at least one day with hours")
        return hours

    def intervals(self, day: date) -> tuple[Interval, ...]:
        return self.by_weekday[day.weekday()]

    def contains(self, start_local: datetime, end_local: datetime) -> bool:
        """Whether [start, end) (wall-clock times in the business zone) lies inside one opening range."""
        day = start_local.date()
        first = start_local.hour * 60 + start_local.minute
        if end_local.date() == day:
            last = end_local.hour * 60 + end_local.minute + (1 if end_local.second or end_local.microsecond else 0)
        elif end_local.date() == day + timedelta(days=1) and end_local.time() == datetime.min.time():
            last = 24 * 60
        else:
            return False
        return any(open_ <= first and last <= close for open_, close in self.intervals(day))

    def describe(self) -> str:
        """'Mon–Fri 09:00–17:00 · Sat 10:00–14:00' (days with the same hours grouped)."""
        groups: list[tuple[list[int], tuple[Interval, ...]]] = []
        for index, intervals in enumerate(self.by_weekday):
            if not intervals:
                continue
            if groups and groups[-1][1] == intervals and groups[-1][0][-1] == index - 1:
                groups[-1][0].append(index)
            else:
                groups.append(([index], intervals))
        parts = []
        for days, intervals in groups:
            label = DAY_LABELS[days[0]] if len(days) == 1 else f"{DAY_LABELS[days[0]]}–{DAY_LABELS[days[-1]]}"
            ranges = ", ".join(f"{_clock(s)}–{_clock(e)}" for s, e in intervals)
            parts.append(f"{label} {ranges}")
        return " · ".join(parts)

    def day_bounds(self) -> tuple[int, int]:
        """The earliest opening and the latest closing over the week (minutes), for calendar grids."""
        starts = [s for intervals in self.by_weekday for s, _ in intervals]
        ends = [e for intervals in self.by_weekday for _, e in intervals]
        return min(starts), max(ends)

