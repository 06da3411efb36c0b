from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import reflex as rx

from navaia_app.auth.state import AuthState, authenticated
from navaia_app.bookings.service import STATUS_LABELS as BOOKING_STATUS_LABELS
from navaia_app.core.db import session_scope
from navaia_app.core.redis import redis_available
from navaia_app.core.types import utcnow
from navaia_app.dashboard import service
from navaia_app.reminders import service as reminders
from navaia_app.tickets.service import PRIORITY_LABELS, STATUS_LABELS as TICKET_STATUS_LABELS
from navaia_app.ui.live import LivePageMixin
from navaia_app.ui.timefmt import ViewerZoneMixin, fmt_short, fmt_time, fmt_zone

# Radix Colors step 9 (SVG fills cannot read the theme's CSS variables).
TICKET_STATUS_FILLS = {"open": "#0090ff", "in_progress": "#ffc53d", "resolved": "#30a46c", "closed": "#8b8d98"}


@dataclass
class NextBooking:
    id: int
    time: str
    customer: str
    service: str
    status: str
    status_label: str


@dataclass
class NewestTicket:
    id: int
    title: str
    customer: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    created: str


class DashboardState(LivePageMixin, ViewerZoneMixin, AuthState):
    _live_topics = ("customers", "tickets", "bookings", "conversations")

    customers: int = 0
    open_tickets: int = 0
    upcoming_bookings: int = 0
    calls_today: int = 0
    confirmed_by_reminder: int = 0
    no_show_rate: str = "–"
    no_show_hint: str = "no finished bookings in 30 days"
    jobs_available: bool = True

    tickets_by_status: list[dict[str, str | int]] = []
    tickets_total: int = 0
    bookings_per_day: list[dict[str, str | int]] = []
    bookings_14_days: int = 0
    ticket_volume: list[dict[str, str | int]] = []
    tickets_30_days: int = 0
    next_bookings: list[NextBooking] = []
    newest_tickets: list[NewestTicket] = []
    zone_label: str = ""

    def _reload(self) -> None:
        now, zone = utcnow(), self._zone()
        with session_scope() as session:
            counts = service.dashboard_counts(session=session, now=now)
            charts = service.dashboard_charts(session=session, now=now, zone=zone)
            figures = reminders.reminder_counts(session=session, since=now - timedelta(days=30), now=now)
        rate = figures["no_show_rate"]
        self._assign(  # on a repeat visit most figures are unchanged: they are not sent, the charts not redrawn
            confirmed_by_reminder=figures["confirmed_by_reminder"],
            no_show_rate="–" if rate is None else f"{rate:.0%}",
            no_show_hint=(f"{figures['no_shows']} of {figures['finished']} finished bookings, last 30 days"
                          if rate is not None else "no finished bookings in 30 days"),
            customers=counts["customers"], open_tickets=counts["open_tickets"],
            upcoming_bookings=counts["upcoming_bookings"], calls_today=counts["calls_today"],
            zone_label=fmt_zone(zone, now),
            tickets_by_status=[{"status": TICKET_STATUS_LABELS[s], "count": n, "fill": TICKET_STATUS_FILLS[s]}
                               for s, n in charts.tickets_by_status.items()],
            tickets_total=sum(charts.tickets_by_status.values()),
            bookings_per_day=[{"day": f"{d:%a} {d.day}", "count": n} for d, n in charts.bookings_per_day],
            bookings_14_days=sum(n for _, n in charts.bookings_per_day),
            ticket_volume=[{"day": f"{d.day} {d:%b}", "count": n} for d, n in charts.ticket_volume],
            tickets_30_days=sum(n for _, n in charts.ticket_volume),
            next_bookings=[NextBooking(
                id=b.id, time=f"{fmt_time(b.starts_at, zone)}–{fmt_time(b.ends_at, zone)}", customer=b.customer_name,
                service=b.service, status=b.status, status_label=BOOKING_STATUS_LABELS[b.status],
            ) for b in charts.next_bookings_today],
            newest_tickets=[NewestTicket(
                id=t.id, title=t.title, customer=t.customer_name, status=t.status,
                status_label=TICKET_STATUS_LABELS[t.status], priority=t.priority,
                priority_label=PRIORITY_LABELS[t.priority], created=fmt_short(t.created_at, zone, now),
            ) for t in charts.newest_tickets],
            jobs_available=redis_available(),
        )
        self._remember_versions()

    @rx.event
    @authenticated
    def load(self):
        self._reload()

