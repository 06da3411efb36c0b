"""The dashboard's figures: counts, tickets by status, bookings per day, ticket volume, next bookings, newest
tickets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from navaia_app.bookings import service as bookings
from navaia_app.customers.models import Customer
from navaia_app.dashboard import service
from navaia_app.tickets import service as tickets

NOW = datetime(2026, 3, 18, 11, 0, tzinfo=timezone.utc)  # a Wednesday, during opening hours (09:00-17:00 UTC)
DAY = datetime(2026, 3, 18, tzinfo=timezone.utc)


def _setup(session):
    ada = Customer(name="Ada Lovelace", phone="+14155550123")
    grace = Customer(name="Grace Hopper", phone="+14155550199")
    session.add_all([ada, grace])
    session.commit()
    for n, (status, days_ago) in enumerate([("open", 0), ("open", 1), ("in_progress", 2), ("resolved", 5),
                                            ("closed", 40)]):
        tickets.create_ticket(session=session, title=f"Ticket {n}", status=status,
                              customer_id=ada.id if n % 2 else None, created_at=NOW - timedelta(days=days_ago))

    def book(at, customer, status="pending", **kw):
        return bookings.create_booking(session=session, customer_id=customer.id, service="Consultation",
                                       starts_at=at, status=status, enforce_schedule=False, now=NOW, **kw)

    book(DAY + timedelta(hours=9), ada, "completed")             # earlier today: over
    book(DAY + timedelta(hours=10, minutes=45), grace, "confirmed")  # under way now
    book(DAY + timedelta(hours=14), ada)                         # later today
    cancelled = book(DAY + timedelta(hours=15), grace)
    bookings.change_booking_status(session=session, booking_id=cancelled.id, status="cancelled", now=NOW)
    book(DAY + timedelta(days=1, hours=9), grace, "confirmed")    # tomorrow
    book(DAY + timedelta(days=20, hours=9), grace)                # beyond the 14 days
    session.commit()
    return ada, grace


def test_counts(session):
    _setup(session)
    assert service.dashboard_counts(session=session, now=NOW) == {
        "customers": 2, "open_tickets": 3, "upcoming_bookings": 3, "calls_today": 0}


def test_charts_and_lists(session):
    _setup(session)
    charts = service.dashboard_charts(session=session, now=NOW, zone=ZoneInfo("UTC"))
    assert charts.tickets_by_status == {"open": 2, "in_progress": 1, "resolved": 1, "closed": 1}

    per_day = dict(charts.bookings_per_day)
    assert len(charts.bookings_per_day) == 14 and charts.bookings_per_day[0][0] == DAY.date()
    assert per_day[DAY.date()] == 3  # the completed, the current and the later one; not the cancelled one
    assert per_day[(DAY + timedelta(days=1)).date()] == 1
    assert sum(per_day.values()) == 4

    volume = dict(charts.ticket_volume)
    assert len(charts.ticket_volume) == 30 and charts.ticket_volume[-1][0] == DAY.date()
    assert volume[DAY.date()] == 1 and sum(volume.values()) == 4  # the 40-day-old one is out

    assert [(b.starts_at.hour, b.starts_at.minute, b.customer_name, b.status)
            for b in charts.next_bookings_today] == [(10, 45, "Grace Hopper", "confirmed"), (14, 0, "Ada Lovelace",
                                                                                           "pending")]
    assert [t.title for t in charts.newest_tickets] == ["Ticket 0", "Ticket 1", "Ticket 2", "Ticket 3", "Ticket 4"]
    assert [t.customer_name for t in charts.newest_tickets][:2] == ["", "Ada Lovelace"]


def test_days_are_days_in_the_viewers_zone(session):
    _setup(session)
    # In Tokyo (+9) it is already 20:00 on the 18th; tomorrow's 09:00 UTC booking is at 18:00 on the 19th.
    charts = service.dashboard_charts(session=session, now=NOW, zone=ZoneInfo("Asia/Tokyo"))
    per_day = dict(charts.bookings_per_day)
    assert per_day[DAY.date()] == 3 and per_day[(DAY + timedelta(days=1)).date()] == 1
    # In Los Angeles (-7) "today" (the 18th) ends at 07:00 UTC on the 19th.
    la = service.dashboard_charts(session=session, now=NOW, zone=ZoneInfo("America/Los_Angeles"))
    assert [b.customer_name for b in la.next_bookings_today] == ["Grace Hopper", "Ada Lovelace"]


def test_an_empty_database(session):
    charts = service.dashboard_charts(session=session, now=NOW, zone=ZoneInfo("UTC"))
    assert charts.tickets_by_status == {"open": 0, "in_progress": 0, "resolved": 0, "closed": 0}
    assert sum(n for _, n in charts.bookings_per_day) == 0 and sum(n for _, n in charts.ticket_volume) == 0
    assert charts.next_bookings_today == [] and charts.newest_tickets == []
