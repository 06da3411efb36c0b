"""How fast is one page of the customers list with 100,000 customers? Prints median and p95 in ms.

    PYTHONPATH=. .venv/bin/python bench/customers_page.py [--pg] [--rows N] [--runs N]

Loads the rows in bulk (executemany on SQLite, COPY on PostgreSQL) into a throw-away database
migrated by Alembic, then times `customers.service.list_customers` (the page and its total,
as the web page and the REST API ask for them). `--pg` adds a fresh PostgreSQL database
(BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone

from navaia_app.customers.models import customer_search_text
from _shared import fmt, measure, postgres_database, quiet_logs, sqlite_database

FIRST = ("Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas", "Priya",
         "Arjun", "Yui", "Haruto", "Camille", "Lukas", "Anna", "Mateo", "Fatima", "Omar", "Chloé", "Jonas",
         "Isla", "Jack", "Ana", "Pedro", "Wei", "Aoife", "Grace", "Daan")
LAST = ("Smith", "Johnson", "Garcia", "Martin", "Nguyen", "Kim", "Patel", "Sharma", "Sato", "Tanaka", "Dubois",
        "Schneider", "Fischer", "Weber", "Souza", "Oliveira", "Haddad", "Rossi", "Murphy", "de Vries", "Okafor",
        "Hernández", "Tremblay", "Wilson", "Brown", "Clarke", "Evans", "Mehta", "Iyer", "Tan")
AREAS = ("212", "415", "312", "206", "303", "617", "646", "718", "202", "305")
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Paris",
         "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", None)
COLUMNS = ("name", "phone", "email", "timezone", "do_not_call", "notes", "created_at", "updated_at", "search_text")


def make_rows(count: int) -> list[tuple]:
    rng = random.Random(42)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = start + timedelta(seconds=rng.randint(0, 700 * 86400))
        email = f"{first}.{last}{i}@example.com".lower().replace(" ", "") if rng.random() < 0.85 else None
        name, phone = f"{first} {last}", f"+1{AREAS[i % len(AREAS)]}{2_000_000 + i:07d}"
        rows.append((name, phone, email, rng.choice(ZONES), rng.random() < 0.03, "", created, created,
                     customer_search_text(name, email, phone)))
    return rows


def load(url: str, rows: list[tuple]) -> float:
    """Bulk-insert the rows; returns the seconds it took."""
    from navaia_app.core.db import engine_for

    engine = engine_for(url)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if url.startswith("sqlite"):
            # The column type stores naive UTC text on SQLite; write exactly that.
            as_text = [(*r[:6], r[6].strftime("%Y-%m-%d %H:%M:%S.%f"), r[7].strftime("%Y-%m-%d %H:%M:%S.%f"), r[8])
                       for r in rows]
            cur.executemany(f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", as_text)
            raw.commit()
            cur.execute("ANALYZE")
        else:
            with cur.copy(f"COPY customers ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            cur.execute("ANALYZE customers")
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def cases(rows: list[tuple], page_size: int) -> list[tuple[str, dict]]:
    probe = rows[len(rows) * 2 // 3]
    digits = probe[1][-7:]
    email_part = next(r[2] for r in rows[len(rows) // 3:] if r[2]).split("@")[0]
    pages = len(rows) // page_size
    page = min(2000, pages)
    return [
        ("first page, sorted by name", dict(sort="name")),
        (f"page {page}, sorted by name", dict(sort="name", offset=(page - 1) * page_size)),
        ("newest first (created_at desc)", dict(sort="created_at", descending=True)),
        ("name search 'martin'", dict(q="martin")),
        (f"phone digits '{digits}'", dict(q=digits)),
        (f"email search '{email_part}'", dict(q=email_part)),
        ("exact phone filter", dict(phone=probe[1])),
    ]


def run(url: str, rows: list[tuple], runs: int, page_size: int) -> dict[str, str]:
    from sqlmodel import Session

    from navaia_app.core.db import engine_for
    from navaia_app.customers.service import list_customers

    engine = engine_for(url)
    results = {}
    for label, params in cases(rows, page_size):
        def one_page(params=params):
            with Session(engine) as session:  # a new unit of work per request, as the app does
                items, total = list_customers(session=session, limit=page_size, **params)
                assert items or total == 0
        results[label] = fmt(measure(one_page, runs=runs))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="also on a fresh PostgreSQL database")
    parser.add_argument("--pg-url", help="PostgreSQL server URL (default: BENCH_PG_URL or local postgres)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=25)
    args = parser.parse_args()
    quiet_logs()

    rows = make_rows(args.rows)
    columns: dict[str, dict[str, str]] = {}
    loads: dict[str, float] = {}
    with sqlite_database() as url:
        loads["SQLite"] = load(url, rows)
        columns["SQLite"] = run(url, rows, args.runs, args.page_size)
    if args.pg:
        with postgres_database(args.pg_url) as url:
            loads["PostgreSQL"] = load(url, rows)
            columns["PostgreSQL"] = run(url, rows, args.runs, args.page_size)

    print(f"customers.service.list_customers: {args.rows:,} customers, page of {args.page_size}, "
          f"{args.runs} runs each; median / p95 in ms (page + total count)")
    print("bulk load: " + ", ".join(f"{db} {secs:.1f} s" for db, secs in loads.items()))
    header = f"{'case':44}" + "".join(f"{db:>22}" for db in columns)
    print(header)
    print("-" * len(header))
    for label in next(iter(columns.values())):
        print(f"{label:44}" + "".join(f"{columns[db][label]:>22}" for db in columns))


if __name__ == "__main__":
    main()
