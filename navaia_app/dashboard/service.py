"""The dashboard's figures, each one cheap query; the rule behind each lives in its feature's service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from navaia_app.bookings.models import Booking
from navaia_app.bookings.service import UPCOMING_STATUSES, bookings_per_day, count_upcoming_bookings
from navaia_app.conversations.models import Conversation
from navaia_app.core.zones import business_zone, local_midnight, start_of_day
from navaia_app.customers.models import Customer
from navaia_app.customers.service import count_customers
from navaia_app.tickets.models import Ticket
from navaia_app.tickets.service import count_open_tickets, ticket_volume, tickets_by_status


def count_calls_since(*, session: Session, since: datetime) -> int:
    """Voice-agent calls recorded since `since`.

    A call counts once its conversation is stored (post-call webhook or a call we placed), so
    outbound attempts that never connected (busy, no answer) are not counted here; the campaign
    pages show those.
    """
    return session.exec(select(func.count()).select_from(Conversation).where(Conversation.created_at >= since)).one()


def dashboard_counts(*, session: Session, now: datetime) -> dict[str, int]:
    """Customers, open tickets (open or in progress), upcoming bookings, voice-agent calls today."""
    return {
        "customers": int(count_customers(session=session)),
        "open_tickets": int(count_open_tickets(session=session)),
        "upcoming_bookings": int(count_upcoming_bookings(session=session, now=now)),
        "calls_today": int(count_calls_since(session=session, since=start_of_day(now, business_zone()))),
    }


# --- charts and lists ------------------------------------------------------------------------------


@dataclass
class UpcomingBooking:
    id: int
    starts_at: datetime
    ends_at: datetime
    service: str
    status: str
    customer_name: str


@dataclass
class NewTicket:
    id: int
    title: str
    status: str
    priority: str
    created_at: datetime
    customer_name: str


@dataclass
class DashboardCharts:
    tickets_by_status: dict[str, int]
    bookings_per_day: list[tuple[date, int]]  # the next 14 days, today first
    ticket_volume: list[tuple[date, int]]  # the last 30 days, oldest first
    next_bookings_today: list[UpcomingBooking]
    newest_tickets: list[NewTicket]


def next_bookings_today(*, session: Session, now: datetime, zone: ZoneInfo, limit: int = 8) -> list[UpcomingBooking]:
    """Bookings still ahead today (or under way), pending or confirmed, soonest first."""
    end = local_midnight(now.astimezone(zone).date() + timedelta(days=1), zone)
    rows = session.exec(
        select(Booking, Customer.name).join(Customer, Customer.id == Booking.customer_id)
        .where(Booking.starts_at < end, Booking.starts_at >= now - timedelta(hours=8), Booking.ends_at > now,
               Booking.status.in_(UPCOMING_STATUSES))
        .order_by(Booking.starts_at).limit(limit)
    )
    return [UpcomingBooking(id=b.id, starts_at=b.starts_at, ends_at=b.ends_at, service=b.service, status=b.status,
                            customer_name=name) for b, name in rows]


def newest_tickets(*, session: Session, limit: int = 6) -> list[NewTicket]:
    """The most recently raised tickets with their customers' names, newest first."""
    rows = session.exec(
        select(Ticket, Customer.name).join(Customer, Customer.id == Ticket.customer_id, isouter=True)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    )
    return [NewTicket(id=t.id, title=t.title, status=t.status, priority=t.priority, created_at=t.created_at,
                      customer_name=name or "") for t, name in rows]


def dashboard_charts(*, session: Session, now: datetime, zone: ZoneInfo) -> DashboardCharts:
    """Everything the dashboard draws besides the counts; days are days in `zone`."""
    return DashboardCharts(
        tickets_by_status=tickets_by_status(session=session),
        bookings_per_day=bookings_per_day(session=session, now=now, zone=zone, days=14),
        ticket_volume=ticket_volume(session=session, now=now, zone=zone, days=30),
        next_bookings_today=next_bookings_today(session=session, now=now, zone=zone),
        newest_tickets=newest_tickets(session=session),
    )
