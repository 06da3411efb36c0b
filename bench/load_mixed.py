"""Signed webhooks and REST reads together against two web processes: throughput, p50/p99, errors.

    PYTHONPATH=. .venv/bin/python bench/load_mixed.py [--seconds 60] [--webhook-senders 6] [--readers 6]

Starts what a scaled deployment runs (bench/_shared/cluster.py): its own PostgreSQL and Redis on free
loopback ports, migrated by Alembic, and two production web processes (Granian + the app's ASGI factory,
as `reflex run --env prod --backend-only` serves it) against them. No worker: the figures are the web
tier's, and a worker would take CPU from it on this 2-core machine while its queue is not what is
measured (every accepted webhook is stored in the inbox before the answer, which is what is checked;
the jobs wait in Redis). Loads 5,000 customers, 3,000 tickets and 2,000 bookings in bulk and creates an
admin whose API token (issued by process 1) every reader uses on both processes.

Then, for --seconds (after a short warm-up), webhook senders post signed ~5 KB post_call_transcription
events, each a distinct conversation, while readers call GET /api/v1/customers?q=..., /api/v1/tickets
?status=..., /api/v1/bookings and /api/health; every request alternates between the two processes.
Prints throughput, p50/p99 and errors per kind and in total, and requests per process. Afterwards
checks that every webhook answered "accepted" is in the inbox (by event id and by conversation id).
Exits 1 on any error or missing record. Everything it started is stopped and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import time
from collections import Counter

from _shared import quiet_logs
from _shared.cluster import (
    Recorder,
    WEBHOOK_PATH,
    api_token,
    body_template,
    cluster,
    create_admin,
    webhook_request,
)

CUSTOMERS, TICKETS, BOOKINGS = 5_000, 3_000, 2_000
SEARCHES = ("smith", "olivia", "patel", "garcia", "tanaka", "555", "2120", "example.com", "noah", "rossi")
STATUSES = ("open", "in_progress", "resolved", "closed")


def seed(database_url: str) -> None:
    """Bulk rows as bench/customers_page.py and bench/tickets_bookings.py load them, plus the admin."""
    from customers_page import load as load_customers
    from customers_page import make_rows
    from tickets_bookings import BOOKING_COLUMNS, TICKET_COLUMNS, _bulk, make_bookings, make_tickets

    started = time.perf_counter()
    create_admin(database_url)
    load_customers(database_url, make_rows(CUSTOMERS))
    _bulk(database_url, "tickets", TICKET_COLUMNS, make_tickets(TICKETS, [1]))
    _bulk(database_url, "bookings", BOOKING_COLUMNS, make_bookings(BOOKINGS))
    print(f"seeded {CUSTOMERS:,} customers, {TICKETS:,} tickets, {BOOKINGS:,} bookings and an admin "
          f"in {time.perf_counter() - started:.1f} s")


def read_requests() -> itertools.cycle:
    """(kind, path, params) in a fixed mix: customer searches, ticket tabs, bookings, health."""
    rng = random.Random(5)
    mix = []
    for i in range(40):
        mix.append(("GET /api/v1/customers?q=", "/api/v1/customers", {"q": rng.choice(SEARCHES)}))
        mix.append(("GET /api/v1/tickets?status=", "/api/v1/tickets", {"status": STATUSES[i % 4]}))
        if i % 2 == 0:
            mix.append(("GET /api/v1/bookings", "/api/v1/bookings", {"offset": str(25 * (i % 8))}))
        if i % 4 == 0:
            mix.append(("GET /api/health", "/api/health", {}))
    rng.shuffle(mix)
    return itertools.cycle(mix)


async def drive(bases: list[str], token: str, *, seconds: float, senders: int, readers: int, warmup: float,
                run_id: str) -> dict:
    import aiohttp

    recorder = Recorder()
    per_process: Counter[tuple[str, str]] = Counter()
    accepted: dict[str, int] = {}  # conversation id -> inbox event id
    before, after = body_template()
    mix = read_requests()
    auth = {"Authorization": f"Bearer {token}"}
    counter = itertools.count(1)
    begin = time.perf_counter()
    measuring_from, stop_at = begin + warmup, begin + warmup + seconds

    def target(n: int) -> str:
        return bases[n % len(bases)]

    async def call(client, kind: str, n: int, method: str, path: str, **kwargs) -> tuple[int, bytes] | None:
        base = target(n)
        started = time.perf_counter()
        try:
            async with client.request(method, base + path, **kwargs) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            recorder.error(kind, f"{base}{path}: {type(exc).__name__} {exc}"[:200])
            return None
        measured = started >= measuring_from
        if status != 200:
            recorder.error(kind, f"{base}{path}: HTTP {status} {payload[:150]!r}")
        elif measured:
            recorder.ok(kind, (time.perf_counter() - started) * 1000)
            per_process[(base, kind)] += 1
        return status, payload

    async def webhook_sender(client) -> None:
        while time.perf_counter() < stop_at:
            n = next(counter)
            conversation_id = f"mixed-{run_id}-{n:07d}"
            body, headers = webhook_request(before, after, conversation_id)
            answer = await call(client, "POST webhook (signed)", n, "POST", WEBHOOK_PATH, data=body,
                                headers=headers)
            if answer and answer[0] == 200:
                import json

                doc = json.loads(answer[1])
                if doc.get("status") == "accepted":
                    accepted[conversation_id] = doc["event_id"]
                else:
                    recorder.error("POST webhook (signed)", f"{conversation_id}: answered {doc}")

    async def reader(client) -> None:
        while time.perf_counter() < stop_at:
            kind, path, params = next(mix)
            await call(client, kind, next(counter), "GET", path, params=params, headers=auth)

    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=senders + readers)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as client:
        await asyncio.gather(*(webhook_sender(client) for _ in range(senders)), *(reader(client) for _ in range(readers)))
    elapsed = time.perf_counter() - measuring_from
    return {"recorder": recorder, "per_process": per_process, "accepted": accepted, "elapsed": elapsed}


def verify(database_url: str, run_id: str, accepted: dict[str, int]) -> tuple[int, list[str]]:
    """Every accepted webhook's inbox row exists: by its event id and its conversation id."""
    from sqlmodel import Session, select

    from navaia_app.conversations.models import WebhookEvent
    from navaia_app.core.db import engine_for

    with Session(engine_for(database_url)) as db:
        rows = dict(db.exec(select(WebhookEvent.external_id, WebhookEvent.id)
                            .where(WebhookEvent.external_id.like(f"mixed-{run_id}-%"))).all())
    missing = sorted(cid for cid, event_id in accepted.items() if rows.get(cid) != event_id)
    return len(rows), missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured load time (default 60, max 600)")
    parser.add_argument("--webhook-senders", type=int, default=6, help="concurrent webhook senders (default 6)")
    parser.add_argument("--readers", type=int, default=6, help="concurrent REST readers (default 6)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load not measured (default 3)")
    args = parser.parse_args()
    args.seconds = max(1.0, min(args.seconds, 600.0))
    quiet_logs()
    run_id = os.urandom(3).hex()
    began = time.perf_counter()
    with cluster(web=2, workers=0, prepare=seed) as deployment:
        bases = [p.url for p in deployment.web]
        print(f"own PostgreSQL :{deployment.postgres.port}, own Redis :{deployment.redis.port}, "
              f"web processes {', '.join(bases)} (no worker); ready after {time.perf_counter() - began:.0f} s")
        token = api_token(bases[0])
        print(f"{args.webhook_senders} webhook senders + {args.readers} REST readers, each request alternating "
              f"between the processes, {args.seconds:.0f} s measured after {args.warmup:.0f} s of warm-up")
        result = asyncio.run(drive(bases, token, seconds=args.seconds, senders=args.webhook_senders,
                                   readers=args.readers, warmup=args.warmup, run_id=run_id))
        recorder: Recorder = result["recorder"]
        print()
        for line in recorder.report(result["elapsed"]):
            print("  " + line)
        per_base = Counter()
        for (base, _), n in result["per_process"].items():
            per_base[base] += n
        print("  per process: " + ", ".join(f"{base} {n:,} requests" for base, n in per_base.items()))
        if recorder.error_count:
            print(f"\nERRORS ({recorder.error_count}):")
            for kind, errors in recorder.errors.items():
                for error in errors[:20]:
                    print(f"  {kind}: {error}")
                if len(errors) > 20:
                    print(f"  {kind}: ... and {len(errors) - 20} more")
        accepted = result["accepted"]
        stored, missing = verify(deployment.database_url, run_id, accepted)
        ids = sorted(accepted.values())
        print(f"\n  {len(accepted):,} webhooks answered 'accepted' (event ids {ids[0] if ids else '-'}..{ids[-1] if ids else '-'}, "
              f"{len(set(ids)):,} distinct); the inbox holds {stored:,} rows of this run; "
              + ("every accepted event's record exists (same id, same conversation)" if not missing else
                 f"MISSING {len(missing)}: {missing[:10]}"))
    print(f"total run time {time.perf_counter() - began:.0f} s")
    return 1 if recorder.error_count or missing or len(set(ids)) != len(ids) else 0


if __name__ == "__main__":
    sys.exit(main())
