"""Outgoing webhooks: delivery throughput of one worker and the delay from a change to its delivery.

    PYTHONPATH=. .venv/bin/python bench/webhooks_out.py [--pg] [--backlog N] [--rate R] [--seconds S]

Production path: a real `python -m navaia_app.cli worker` subprocess, a redis-server of its own on a free
port, a throw-away database migrated by Alembic (SQLite; `--pg` a fresh PostgreSQL database instead), and a
local receiver (tests/support/receiver.py) that answers 200 at once. Every request is signed and goes
through the SSRF check (OUTGOING_WEBHOOKS_ALLOW_PRIVATE=true for the loopback receiver).

1. Throughput: N ticket changes are committed first (one transaction each, so N events in the outbox),
   then the worker starts; events/s = N / (last arrival - first arrival), one endpoint (in-order delivery
   is one request at a time per endpoint).
2. Delay: with the worker running, tickets are created at R per second for S seconds; the delay is the
   receiver's arrival time minus the event's commit time (its created_at), p50 / p99.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import datetime

from _shared import postgres_database, quiet_logs, sqlite_database, use_database


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(url: str, backlog: int, rate: float, seconds: float) -> None:
    from sqlmodel import select

    from navaia_app.core.db import session_scope
    from navaia_app.customers.models import CustomerIn
    from navaia_app.customers.service import create_customer
    from navaia_app.tickets.service import create_ticket
    from navaia_app.webhooks_out import service
    from navaia_app.webhooks_out.models import OutgoingEvent, WebhookDelivery
    from tests.support.receiver import Receiver
    from tests.support.servers import OwnRedis, WorkerProcess

    redis_server = OwnRedis().start()
    receiver = Receiver().start()
    env = {"OUTGOING_WEBHOOKS_ALLOW_PRIVATE": "true", "LOG_LEVEL": "WARNING"}
    os.environ.update({"REDIS_URL": redis_server.url, **env})
    use_database(url)
    worker = None
    try:
        with session_scope() as session:
            service.create_endpoint(session=session, actor=None, url=receiver.url, events=["ticket.created"])
            customer_id = create_customer(session=session, customer_in=CustomerIn(
                name="Bench Customer", phone="+12125550111")).id

        for i in range(backlog):
            with session_scope() as session:
                create_ticket(session=session, title=f"Backlog {i}", customer_id=customer_id)
        worker = WorkerProcess(url, redis_server.url, **env)
        deadline = time.monotonic() + 600
        while len(receiver.snapshot()) < backlog:
            if time.monotonic() > deadline or not worker.alive():
                raise RuntimeError(f"backlog not delivered: {len(receiver.snapshot())}/{backlog}\n"
                                   f"{worker.log_tail()}")
            time.sleep(0.1)
        got = receiver.snapshot()
        span = got[-1].at - got[0].at
        print(f"throughput: {backlog} events delivered in {span:.2f} s = {backlog / span:.1f} events/s "
              f"(one worker, one endpoint, in order)")

        first = len(receiver.snapshot())
        interval, started, sent = 1.0 / rate, time.monotonic(), 0
        while time.monotonic() - started < seconds:
            with session_scope() as session:
                create_ticket(session=session, title=f"Live {sent}", customer_id=customer_id)
            sent += 1
            pause = started + sent * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        deadline = time.monotonic() + 120
        while len(receiver.snapshot()) < first + sent:
            if time.monotonic() > deadline:
                raise RuntimeError(f"live events not delivered: {len(receiver.snapshot()) - first}/{sent}")
            time.sleep(0.1)
        arrivals = {r.headers["webhook-id"]: r.at for r in receiver.snapshot()[first:]}
        with session_scope() as session:
            created = {e.message_id: e.created_at for e in session.exec(
                select(OutgoingEvent).where(OutgoingEvent.payload.like('%"title":"Live %')))}
            failed = len(session.exec(select(WebhookDelivery.id).where(WebhookDelivery.status != "delivered")).all())
        delays = [(arrivals[mid] - at.timestamp()) * 1000 for mid, at in created.items() if mid in arrivals]
        achieved = sent / seconds
        print(f"delay change -> delivery at {achieved:.0f} changes/s for {seconds:.0f} s ({len(delays)} events): "
              f"p50 {statistics.median(delays):.1f} ms, p99 {_percentile(delays, 0.99):.1f} ms, "
              f"max {max(delays):.1f} ms; not delivered: {failed}")
    finally:
        if worker is not None:
            worker.stop()
        receiver.stop()
        redis_server.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    quiet_logs()
    print(f"{datetime.now():%Y-%m-%d %H:%M}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          f"(shared machine: figures are pessimistic)")
    with (postgres_database() if args.pg else sqlite_database()) as url:
        print(f"database: {'PostgreSQL' if args.pg else 'SQLite'}")
        run(url, args.backlog, args.rate, args.seconds)


if __name__ == "__main__":
    main()
