"""The dashboard's figures, each one cheap query; the rule behind each lives in its feature's service."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from navaia_app.bookings.service import count_upcoming_bookings
from navaia_app.conversations.models import Conversation
from navaia_app.core.settings import get_settings
from navaia_app.customers.service import count_customers
from navaia_app.tickets.service import count_open_tickets


def local_midnight(now: datetime) -> datetime:
    """The start of `now`'s day in BUSINESS_TIMEZONE (as an aware datetime)."""
    zone = ZoneInfo(get_settings().business_timezone)
    return datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)


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
        "calls_today": int(count_calls_since(session=session, since=local_midnight(now))),
    }
