"""How fast are the Tickets page, the week calendar and the dashboard with 100,000 tickets and 100,000 bookings?
Prints median and p95 server time in ms.

    PYTHONPATH=. .venv/bin/python bench/tickets_bookings.py [--pg] [--tickets N] [--bookings N] [--runs N]

Loads the rows in bulk (executemany on SQLite, COPY on PostgreSQL) into a throw-away database migrated by
Alembic: 5,000 customers, 5 staff, tickets raised over the last year, and bookings of 20 resources (people
or rooms) over 80 weeks back and 24 ahead, inside opening hours and never overlapping. Then it times what
each page asks the services for, each time in a new unit of work as the app does:

- Tickets page: one page of 25, its total and the per-status counts of its tabs (`ticket_page`);
- Bookings page: a week of one resource (`bookings_between`), the week's free slots, a filtered list page;
- Dashboard: every figure and chart (`dashboard_counts` + `dashboard_charts`).

`--pg` adds a fresh PostgreSQL database (BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test),
dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from _shared import fmt, measure, postgres_database, quiet_logs, sqlite_database, use_database
from customers_page import load as load_customers
from customers_page import make_rows as make_customers

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
CUSTOMERS = 5_000
STAFF = 5
RESOURCES = [f"Stylist {n}" for n in range(1, 20)] + ["business"]
WORDS = ("printer", "invoice", "refund", "laptop", "screen", "battery", "login", "password", "wifi", "router",
         "appointment", "prescription", "warranty", "delivery", "charger", "update", "account", "billing",
         "keyboard", "backup", "email", "phone", "tablet", "repair", "certificate", "parking")
TICKET_COLUMNS = ("title", "description", "status", "priority", "category", "customer_id", "assignee_id", "source",
                  "created_at", "updated_at", "resolved_at")
BOOKING_COLUMNS = ("customer_id", "service", "starts_at", "ends_at", "duration_minutes", "status", "notes", "source",
                   "resource", "created_at", "updated_at")
SERVICES = (("Consultation", 30), ("Follow-up", 30), ("Device repair", 60), ("Annual check-up", 45),
            ("Diagnostics", 45), ("Haircut", 30), ("Colour", 90))


def make_tickets(count: int, staff_ids: list[int]) -> list[tuple]:
    rng = random.Random(7)
    rows = []
    for _ in range(count):
        created = NOW - timedelta(seconds=rng.randint(0, 365 * 86400))
        status = rng.choices(("open", "in_progress", "resolved", "closed"), (15, 10, 25, 50))[0]
        words = rng.sample(WORDS, 3)
        resolved = created + timedelta(hours=rng.randint(1, 96)) if status in ("resolved", "closed") else None
        rows.append((
            f"{words[0].capitalize()} {words[1]} issue", f"Customer reports a {words[1]} problem with the {words[2]}.",
            status, rng.choices(("low", "medium", "high", "urgent"), (30, 40, 20, 10))[0],
            rng.choice(("repair", "billing", "account", "clinical", "network", "")),
            rng.randint(1, CUSTOMERS) if rng.random() < 0.9 else None,
            rng.choice(staff_ids) if rng.random() < 0.7 else None,
            rng.choice(("manual", "ai_call", "ai_call", "api")),
            created, min(NOW, resolved or created + timedelta(hours=rng.randint(0, 48))), resolved,
        ))
    return rows


def make_bookings(count: int) -> list[tuple]:
    """Per resource, weekdays 09:00-17:00 UTC, back to back or with gaps, none overlapping."""
    rng = random.Random(11)
    per_resource = -(-count // len(RESOURCES))
    first_day = (NOW - timedelta(weeks=80)).date()
    rows = []
    for resource in RESOURCES:
        day, made = first_day, 0
        while made < per_resource:
            if day.weekday() < 5:
                cursor = datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc)
                close = cursor.replace(hour=17)
                while made < per_resource:
                    service, minutes = rng.choice(SERVICES)
                    cursor += timedelta(minutes=rng.choice((0, 0, 30, 60, 90)))
                    if cursor + timedelta(minutes=minutes) > close:
                        break
                    end = cursor + timedelta(minutes=minutes)
                    if end <= NOW:
                        status = rng.choices(("completed", "no_show", "cancelled"), (85, 5, 10))[0]
                    else:
                        status = rng.choices(("pending", "confirmed", "cancelled"), (40, 55, 5))[0]
                    rows.append((rng.randint(1, CUSTOMERS), service, cursor, end, minutes, status, "",
                                 rng.choice(("manual", "ai_call", "api")), resource, cursor - timedelta(days=3),
                                 cursor - timedelta(days=3)))
                    made += 1
                    cursor = end
            day += timedelta(days=1)
    return rows[:count]


def _bulk(url: str, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    from navaia_app.core.db import engine_for

    raw = engine_for(url).raw_connection()
    try:
        cur = raw.cursor()
        if url.startswith("sqlite"):
            def text(value):  # the column type keeps naive UTC text on SQLite
                return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f") \
                    if isinstance(value, datetime) else value
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            [tuple(text(v) for v in row) for row in rows])
            raw.commit()
            cur.execute("ANALYZE")
        else:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            raw.dbapi_connection.autocommit = True  # VACUUM, as autovacuum does on a live database
            cur.execute(f"VACUUM ANALYZE {table}")
            raw.dbapi_connection.autocommit = False
        raw.commit()
    finally:
        raw.close()


def load(url: str, tickets: int, bookings: int) -> tuple[float, list[int]]:
    from navaia_app.auth.service import create_user
    from navaia_app.core.db import session_scope

    use_database(url)
    started = time.perf_counter()
    load_customers(url, make_customers(CUSTOMERS))
    with session_scope() as session:
        staff = [create_user(session=session, email=f"staff{n}@example.com", password="quiet harbour lantern 42",
                             name=f"Staff {n}", role="agent").id for n in range(STAFF)]
    _bulk(url, "tickets", TICKET_COLUMNS, make_tickets(tickets, staff))
    _bulk(url, "bookings", BOOKING_COLUMNS, make_bookings(bookings))
    return time.perf_counter() - started, staff


def cases(staff: list[int]) -> list[tuple[str, str, object]]:
    from navaia_app.bookings import service as bookings
    from navaia_app.dashboard.service import dashboard_charts, dashboard_counts
    from navaia_app.tickets import service as tickets

    zone = ZoneInfo("UTC")
    week = NOW - timedelta(days=NOW.weekday())
    week = week.replace(hour=0, minute=0)

    def ticket_page(**filters):
        def run(session):
            items, total, counts = tickets.ticket_page(session=session, limit=25, **filters)
            assert items or total == 0
            return counts
        return run

    def calendar_week(resource: str | None, start: datetime):
        def run(session):
            return bookings.bookings_between(session=session, start=start, end=start + timedelta(days=7),
                                             resource=resource, include_cancelled=False)
        return run

    return [
        ("tickets", "all, newest first (+ tab counts)", ticket_page()),
        ("tickets", "status open", ticket_page(status="open")),
        ("tickets", "open + priority urgent", ticket_page(status="open", priority="urgent")),
        ("tickets", "in progress, one assignee", ticket_page(status="in_progress", assignee_id=staff[0])),
        ("tickets", "source ai_call, created last 7 days",
         ticket_page(source="ai_call", created_from=NOW - timedelta(days=7))),
        ("tickets", "one customer", ticket_page(customer_id=42)),
        ("tickets", "search 'refund' (many matches)", ticket_page(q="refund")),
        ("tickets", "search 'printer invoice' (few matches)", ticket_page(q="printer invoice")),
        ("tickets", "search, nothing matches", ticket_page(q="no such words")),
        ("tickets", "page 200 of all", ticket_page(offset=199 * 25)),
        ("tickets", "sorted by priority", ticket_page(sort="priority")),
        ("calendar", "this week, one resource", calendar_week("Stylist 3", week)),
        ("calendar", "week 30 weeks ago, one resource", calendar_week("Stylist 3", week - timedelta(weeks=30))),
        ("calendar", "this week, free slots (1 resource)",
         lambda s: bookings.free_slots(session=s, start=week, end=week + timedelta(days=7), resource="Stylist 3")),
        ("calendar", "list: confirmed, next 30 days", lambda s: bookings.list_bookings(
            session=s, status="confirmed", starts_from=NOW, starts_to=NOW + timedelta(days=30), limit=25)),
        ("calendar", "list: one customer's bookings", lambda s: bookings.list_bookings(
            session=s, customer_id=42, limit=25)),
        ("dashboard", "all counts and charts", lambda s: (dashboard_counts(session=s, now=NOW),
                                                          dashboard_charts(session=s, now=NOW, zone=zone))),
        ("dashboard", "  tickets by status", lambda s: tickets.tickets_by_status(session=s)),
        ("dashboard", "  ticket volume, 30 days", lambda s: tickets.ticket_volume(session=s, now=NOW, zone=zone)),
        ("dashboard", "  bookings per day, 14 days",
         lambda s: bookings.bookings_per_day(session=s, now=NOW, zone=zone)),
    ]


def run(url: str, staff: list[int], runs: int) -> dict[str, str]:
    from sqlmodel import Session

    from navaia_app.core.db import engine_for

    engine = engine_for(url)
    results = {}
    for group, label, action in cases(staff):
        def once(action=action):
            with Session(engine) as session:  # a new unit of work per request, as the app does
                action(session)
        results[f"{group}: {label}"] = fmt(measure(once, runs=runs))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="also on a fresh PostgreSQL database")
    parser.add_argument("--pg-url", help="PostgreSQL server URL (default: BENCH_PG_URL or local postgres)")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    quiet_logs()

    columns: dict[str, dict[str, str]] = {}
    loads: dict[str, float] = {}
    with sqlite_database() as url:
        loads["SQLite"], staff = load(url, args.tickets, args.bookings)
        columns["SQLite"] = run(url, staff, args.runs)
    if args.pg:
        with postgres_database(args.pg_url) as url:
            loads["PostgreSQL"], staff = load(url, args.tickets, args.bookings)
            columns["PostgreSQL"] = run(url, staff, args.runs)

    print(f"{args.tickets:,} tickets, {args.bookings:,} bookings ({len(RESOURCES)} resources), {CUSTOMERS:,} "
          f"customers; {args.runs} runs each; median / p95 server time in ms")
    print("targets: a ticket page (with its tab counts) and a calendar week < 100 ms; the dashboard < 150 ms")
    print("bulk load: " + ", ".join(f"{db} {secs:.1f} s" for db, secs in loads.items()))
    header = f"{'case':58}" + "".join(f"{db:>22}" for db in columns)
    print(header)
    print("-" * len(header))
    for label in next(iter(columns.values())):
        print(f"{label:58}" + "".join(f"{columns[db][label]:>22}" for db in columns))


if __name__ == "__main__":
    main()
