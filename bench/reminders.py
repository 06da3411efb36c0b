"""How fast are booking reminders planned, and how fast is the due-reminder query with a big table?
Prints figures; never part of `make test`.

    PYTHONPATH=. .venv/bin/python bench/reminders.py [--pg] [--plan N] [--bookings N] [--runs N] [--planning-only]

1. Planning: N upcoming bookings (default 10,000) of 5,000 customers in several zones, loaded in bulk;
   reminders are switched on and `reminders.planning.plan_upcoming` plans every one (a call 24 h before
   and a text 2 h before, in the allowed hours of each customer's zone) in one transaction, as saving the
   settings does. Timed three times (the reminder rows are deleted between runs): the wall time, and this
   process's CPU time beside it (the rest is the database server's, or waiting for a core on a shared machine).
2. The due query (`reminders.sender.due_ids`, what the periodic job asks every REMINDERS_EVERY_SECONDS):
   `--bookings` bookings (default 100,000) with two reminder rows each (200,000 rows: past ones sent,
   answered, unreachable or cancelled; upcoming ones planned or held; 150 due right now), median / p95 ms.

`--pg` runs on a fresh PostgreSQL database too (BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test),
dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import datetime, timedelta, timezone

from _shared import fmt, measure, postgres_database, quiet_logs, sqlite_database, use_database
from customers_page import load as load_customers
from customers_page import make_rows as make_customers
from tickets_bookings import BOOKING_COLUMNS, SERVICES, _bulk

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
CUSTOMERS = 5_000
REMINDER_COLUMNS = ("booking_id", "customer_id", "channel", "position", "status", "due_at", "booking_starts_at",
                    "sent_at", "result", "tries", "created_at", "updated_at")


def upcoming_bookings(count: int, *, first_id: int = 1) -> list[tuple]:
    """`count` bookings over the next 30 days (each its own resource slot: the bench times planning, not the
    overlap rule)."""
    rng = random.Random(5)
    rows = []
    for n in range(count):
        starts = NOW + timedelta(minutes=rng.randint(30, 30 * 1440) // 15 * 15)
        service, minutes = rng.choice(SERVICES)
        rows.append((rng.randint(1, CUSTOMERS), service, starts, starts + timedelta(minutes=minutes), minutes,
                     rng.choice(("pending", "confirmed")), "", "api", f"room-{n % 500}", NOW, NOW))
    return rows


def bench_planning(url: str, count: int, runs: int) -> list[tuple[float, float]]:
    import sqlalchemy as sa

    from navaia_app.core.db import session_scope
    from navaia_app.reminders import planning
    from navaia_app.reminders.models import BookingReminder, ReminderSettings

    _bulk(url, "bookings", BOOKING_COLUMNS, upcoming_bookings(count))
    with session_scope() as session:
        session.add(ReminderSettings(id=1, enabled=True))
    times = []
    for _ in range(runs):
        with session_scope() as session:
            session.exec(sa.delete(BookingReminder))
        started, cpu = time.perf_counter(), time.process_time()
        with session_scope() as session:
            counts = planning.plan_upcoming(session=session, now=NOW)
        times.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
        assert counts["bookings"] == count and counts["created"] >= count, counts
    return times


def reminder_rows(bookings: list[tuple[int, int, datetime]], due_now: int) -> list[tuple]:
    rng = random.Random(9)
    rows = []
    for index, (booking_id, customer_id, starts) in enumerate(bookings):
        call_due, sms_due = starts - timedelta(hours=24), starts - timedelta(hours=2)
        if starts <= NOW:
            call = rng.choices(("answered", "sent", "unreachable", "cancelled"), (50, 25, 15, 10))[0]
            sms = "cancelled" if call == "answered" else rng.choice(("sent", "skipped"))
            rows.append((booking_id, customer_id, "call", 0, call, call_due, starts, call_due,
                         "confirmed" if call == "answered" else None, 1, call_due, call_due))
            rows.append((booking_id, customer_id, "sms", 1, sms, sms_due, starts, None, None, 0, call_due, call_due))
        else:
            if index < due_now:
                rows.append((booking_id, customer_id, "call", 0, "planned", NOW - timedelta(seconds=30), starts, None,
                             None, 0, NOW, NOW))
            else:  # already sent when its lead time has passed, else waiting
                status = "sent" if call_due <= NOW else "planned"
                rows.append((booking_id, customer_id, "call", 0, status, call_due, starts,
                             call_due if status == "sent" else None, None, 1 if status == "sent" else 0, NOW, NOW))
            rows.append((booking_id, customer_id, "sms", 1, "held", sms_due, starts, None, None, 0, NOW, NOW))
    return rows


def bench_due_query(url: str, count: int, runs: int) -> list[float]:
    from sqlmodel import select

    from navaia_app.bookings.models import Booking
    from navaia_app.core.db import session_scope
    from navaia_app.reminders import sender
    from tickets_bookings import make_bookings

    _bulk(url, "bookings", BOOKING_COLUMNS, make_bookings(count))
    with session_scope() as session:
        booked = list(session.exec(select(Booking.id, Booking.customer_id, Booking.starts_at)
                                   .order_by(Booking.starts_at.desc())))
    _bulk(url, "booking_reminders", REMINDER_COLUMNS, reminder_rows(booked, due_now=150))

    def due():
        with session_scope() as session:
            ids = sender.due_ids(session, NOW)
        assert len(ids) == 150, len(ids)

    return measure(due, runs=runs)


def run(url: str, label: str, plan: int, bookings: int, runs: int) -> None:
    use_database(url)
    load_customers(url, make_customers(CUSTOMERS))
    planning_times = bench_planning(url, plan, 3)
    print(f"{label:10s} planning {plan:,} bookings (one transaction), wall (this process's CPU): "
          + ", ".join(f"{t / 1000:.2f} s ({c / 1000:.2f} s)" for t, c in planning_times))


def run_due(url: str, label: str, bookings: int, runs: int) -> None:
    use_database(url)
    load_customers(url, make_customers(CUSTOMERS))
    print(f"{label:10s} due query, {bookings:,} bookings / {2 * bookings:,} reminder rows, median / p95 ms: "
          f"{fmt(bench_due_query(url, bookings, runs))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL too")
    parser.add_argument("--plan", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--planning-only", action="store_true", help="skip the due query (100,000 bookings)")
    args = parser.parse_args()
    quiet_logs()
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with sqlite_database() as url:
        run(url, "SQLite", args.plan, args.bookings, args.runs)
    if not args.planning_only:
        with sqlite_database() as url:
            run_due(url, "SQLite", args.bookings, args.runs)
    if args.pg:
        with postgres_database() as url:
            run(url, "PostgreSQL", args.plan, args.bookings, args.runs)
        if not args.planning_only:
            with postgres_database() as url:
                run_due(url, "PostgreSQL", args.bookings, args.runs)
    print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
