"""Times as people read them: in the viewer's time zone (the browser's), and the customer's.

The browser tells its IANA zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`) when a page mounts
`viewer_zone_probe(State)`; until it has, pages show the business time zone. The expression is compiled into
the page (no eval, so a strict Content-Security-Policy allows it).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from navaia_app.core.zones import zone_named

BROWSER_ZONE_JS = "Intl.DateTimeFormat().resolvedOptions().timeZone"


def fmt_when(value: datetime | None, zone: ZoneInfo) -> str:
    """'Mon 16 Mar 2026, 10:00'."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def fmt_short(value: datetime | None, zone: ZoneInfo, now: datetime | None = None) -> str:
    """'10:00' today, 'Mon 16 Mar, 10:00' this year, else with the year."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    if now is not None and local.date() == now.astimezone(zone).date():
        return f"Today, {local:%H:%M}"
    if now is not None and local.year == now.astimezone(zone).year:
        return f"{local:%a} {local.day} {local:%b, %H:%M}"
    return fmt_when(value, zone)


def fmt_time(value: datetime, zone: ZoneInfo) -> str:
    return f"{value.astimezone(zone):%H:%M}"


def fmt_zone(zone: ZoneInfo, at: datetime) -> str:
    """'Europe/Paris (CET)'."""
    abbreviation = at.astimezone(zone).tzname()
    return zone.key if not abbreviation or abbreviation == zone.key else f"{zone.key} ({abbreviation})"


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


class ViewerZoneMixin(rx.State, mixin=True):
    """Pages that show times: `viewer_tz` is the browser's zone once it has told us."""

    viewer_tz: str = ""

    def _zone(self) -> ZoneInfo:
        return zone_named(self.viewer_tz)

    def _zone_changed(self):
        """Re-format what the page shows: its `refresh` (a page with none says what instead)."""
        return type(self).refresh

    @rx.event
    def set_viewer_tz(self, value: str):
        canonical = zone_named(str(value or "")).key
        if canonical != self.viewer_tz:
            self.viewer_tz = canonical
            return self._zone_changed()


def viewer_zone_probe(state) -> rx.Component:
    """An invisible element that tells `state` the browser's time zone when the page mounts."""
    return rx.box(display="none", on_mount=state.set_viewer_tz(rx.Var(BROWSER_ZONE_JS).to(str)))


def date_input(**props) -> rx.Component:
    """A date field that tells the state at once (a date picker gives whole values; no typing to wait for)."""
    return rx.input(type="date", debounce_timeout=0, **props)
