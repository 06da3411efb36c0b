"""Campaign figures: snapshot + enqueue of a 10,000-customer campaign, achieved calls per second
against the configured rate (1, 10, 50/s) with the simulated provider, and duplicate calls.

    PYTHONPATH=. .venv/bin/python bench/campaigns.py [--pg] [--customers N] [--seconds S]

Runs on a throw-away database migrated by Alembic (SQLite; `--pg` a fresh PostgreSQL database too)
and a redis-server of its own (no persistence) on a free port. The rates are measured through the
production path: a real `python -m navaia_app.cli worker` subprocess places the calls, slice after
slice, and the rate is read from the attempts' placement times in the database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

from _shared import ROOT, postgres_database, quiet_logs, sqlite_database, use_database

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Paris",
         "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self):
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="navaia-bench-redis-")
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def load_customers(url: str, count: int) -> None:
    from navaia_app.core.db import engine_for

    now = datetime.now(UTC)
    rows = [(f"Customer {i}", f"+1{('212', '415', '312', '206', '303')[i % 5]}{2_000_000 + i:07d}",
             ZONES[i % len(ZONES)], i % 50 == 0, now, now) for i in range(count)]
    engine = engine_for(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if url.startswith("sqlite"):
            text = [(*r[:4], r[4].strftime("%Y-%m-%d %H:%M:%S.%f"), r[5].strftime("%Y-%m-%d %H:%M:%S.%f"))
                    for r in rows]
            cur.executemany("INSERT INTO customers (name, phone, timezone, do_not_call, notes, created_at, updated_at) "
                            "VALUES (?, ?, ?, ?, '', ?, ?)", text)
        else:
            with cur.copy("COPY customers (name, phone, timezone, do_not_call, notes, created_at, updated_at) "
                          "FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((*r[:4], "", r[4], r[5]))
        raw.commit()
    finally:
        raw.close()


def create_campaign(name: str, *, cps: float, customer_ids: list[int] | None = None) -> int:
    from navaia_app.campaigns import service
    from navaia_app.campaigns.models import CampaignIn
    from navaia_app.core.db import session_scope

    with session_scope() as session:
        return service.create_campaign(session=session, campaign_in=CampaignIn(
            name=name, customer_ids=customer_ids, calls_per_second=cps, max_concurrent_calls=1000, max_attempts=1,
            calling_window_start="00:00", calling_window_end="00:00", calling_days=ALL_DAYS)).id


def snapshot_figure(count: int) -> tuple[float, int, int]:
    """Seconds to snapshot a `count`-customer campaign and queue its dispatcher (Run), and the rows made."""
    import redis as redis_lib

    from navaia_app.campaigns import service
    from navaia_app.core.db import session_scope
    from navaia_app.core.settings import get_settings

    cid = create_campaign("Ten thousand", cps=1)
    started = time.perf_counter()
    with session_scope() as session:
        campaign = service.start_campaign(session=session, campaign_id=cid)
    elapsed = time.perf_counter() - started  # includes the commit and the kick (queued after commit)
    queued = redis_lib.Redis.from_url(get_settings().redis_url).llen("rq:queue:calls")
    with session_scope() as session:
        service.cancel_campaign(session=session, campaign_id=cid)  # nobody is called by the bench's first part
    return elapsed, campaign.snapshot["included"], queued


def rate_figure(env: dict[str, str], cps: float, seconds: float, first_id: int) -> tuple[float, int, int, int]:
    """Run a campaign of cps*seconds customers through a real worker; the achieved placement rate."""
    from sqlmodel import func, select

    from navaia_app.campaigns import service
    from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt
    from navaia_app.core.db import session_scope

    n = max(15, int(cps * seconds))
    cid = create_campaign(f"Rate {cps:g}/s", cps=cps, customer_ids=list(range(first_id, first_id + n)))
    log = open(os.environ["BENCH_WORKER_LOG"], "a") if os.environ.get("BENCH_WORKER_LOG") else subprocess.DEVNULL
    worker = subprocess.Popen([sys.executable, "-m", "navaia_app.cli", "worker"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(3)  # the worker is up before the clock starts
        with session_scope() as session:
            service.start_campaign(session=session, campaign_id=cid)
        deadline = time.monotonic() + n / cps * 3 + 60
        while time.monotonic() < deadline:
            with session_scope() as session:
                placed = session.exec(select(func.count()).select_from(CampaignCallAttempt).where(
                    CampaignCallAttempt.campaign_id == cid, CampaignCallAttempt.placed_at.is_not(None))).one()
                status = session.get(Campaign, cid).status
            if placed >= n or status == "completed":
                break
            time.sleep(0.5)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    with session_scope() as session:
        times = sorted(session.exec(select(CampaignCallAttempt.placed_at).where(
            CampaignCallAttempt.campaign_id == cid, CampaignCallAttempt.placed_at.is_not(None))).all())
        per_call = session.exec(select(CampaignCallAttempt.campaign_call_id, func.count()).where(
            CampaignCallAttempt.campaign_id == cid, CampaignCallAttempt.provider_call_id.is_not(None)).group_by(
            CampaignCallAttempt.campaign_call_id)).all()
        per_customer = session.exec(select(CampaignCall.customer_id, func.count()).join(
            CampaignCallAttempt, CampaignCallAttempt.campaign_call_id == CampaignCall.id).where(
            CampaignCall.campaign_id == cid, CampaignCallAttempt.provider_call_id.is_not(None)).group_by(
            CampaignCall.customer_id)).all()
        service.cancel_campaign(session=session, campaign_id=cid) if session.get(Campaign, cid).status in (
            "running", "paused") else None
    achieved = (len(times) - 1) / (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
    duplicates = sum(c - 1 for _, c in per_call if c > 1) + sum(c - 1 for _, c in per_customer if c > 1)
    return achieved, len(times), n, duplicates


def run(url: str, label: str, customers: int, seconds: float) -> None:
    use_database(url)
    load_customers(url, customers)
    server = Redis()
    os.environ["REDIS_URL"] = server.url
    from navaia_app.core.settings import get_settings

    get_settings.cache_clear()
    try:
        elapsed, included, queued = snapshot_figure(customers)
        print(f"[{label}] snapshot + enqueue of a {customers:,}-customer campaign: {elapsed:.2f} s "
              f"({included:,} calls to make, {customers - included:,} excluded as do-not-call; "
              f"dispatcher jobs queued: {queued}) — aim < 2 s")
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": server.url, "APP_ENV": "test",
               "TELEPHONY_PROVIDER": "simulated", "SIMULATED_TIME_SCALE": "0.01", "SIMULATED_CALLS_PER_SECOND": "100",
               "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"), "PYTHONPATH": str(ROOT), "ELEVENLABS_WEBHOOK_SECRET": ""}
        first = 2  # customer 1 is do-not-call (every 50th is)
        total_dupes = 0
        for cps in (1, 10, 50):
            achieved, placed, wanted, dupes = rate_figure(env, cps, seconds, first)
            first += wanted + 5
            total_dupes += dupes
            error = (achieved - cps) / cps * 100
            print(f"[{label}] configured {cps:>4g} calls/s -> achieved {achieved:7.2f} calls/s "
                  f"({error:+.1f}%, {placed}/{wanted} placed; aim within 5%)")
        print(f"[{label}] duplicate calls: {total_dupes} (must be 0)")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", action="store_true", help="also on a fresh PostgreSQL database")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=15, help="how long each rate is measured")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is needed (apt-get install redis-server)")
    quiet_logs()
    with sqlite_database() as url:
        run(url, "sqlite", args.customers, args.seconds)
    if args.pg:
        with postgres_database() as url:
            run(url, "postgresql", args.customers, args.seconds)


if __name__ == "__main__":
    main()
