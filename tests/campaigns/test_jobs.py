"""Campaigns on real Redis with real RQ workers (`python -m navaia_app.cli worker`), including the
two crash tests: a worker killed with SIGKILL mid-campaign, and Redis restarted without its data.

Each test starts its own redis-server on a free port (no persistence) and stops only that one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlmodel import Session, func, select

from navaia_app.campaigns import service
from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt, CampaignIn
from navaia_app.core.db import engine_for
from navaia_app.core.migrations import upgrade_database
from navaia_app.core.settings import get_settings
from navaia_app.customers.models import Customer
from tests.support.servers import OwnRedis
from tests.support.workers import CLI, start_worker, stop_worker, wait_until

ROOT = Path(__file__).resolve().parents[2]
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


PrivateRedis = OwnRedis  # a redis-server of our own, without persistence: a restart comes back empty


@pytest.fixture
def private_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def worker_env(tmp_path, private_redis, monkeypatch) -> dict[str, str]:
    """A migrated SQLite database and the private Redis, for this process and the workers it starts."""
    url = f"sqlite:///{tmp_path / 'campaigns.db'}"
    upgrade_database(url)
    engine_for(url).dispose()
    env = {"DATABASE_URL": url, "REDIS_URL": private_redis.url, "APP_ENV": "test", "TELEPHONY_PROVIDER": "simulated",
           "SIMULATED_TIME_SCALE": "0.02", "SIMULATED_CALLS_PER_SECOND": "100",
           "CAMPAIGN_DISPATCH_SLICE_SECONDS": "2", "CAMPAIGN_RECONCILE_SECONDS": "3", "LOG_LEVEL": "INFO",
           "ELEVENLABS_WEBHOOK_SECRET": ""}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    engine_for(url).dispose()
    get_settings.cache_clear()


def _campaign(url: str, customers: int, **fields) -> int:
    fields = {"name": "Crash test", "calling_window_start": "00:00", "calling_window_end": "00:00",
              "calling_days": ALL_DAYS, "calls_per_second": 40, "max_concurrent_calls": 40, "max_attempts": 1,
              **fields}
    with Session(engine_for(url)) as session:
        session.add_all([Customer(name=f"Customer {i}", phone=f"+1212555{i:04d}", timezone="America/New_York")
                         for i in range(customers)])
        campaign = service.create_campaign(session=session, campaign_in=CampaignIn(**fields))
        session.commit()
        service.start_campaign(session=session, campaign_id=campaign.id)  # queues the dispatcher (after commit)
        session.commit()
        return campaign.id


def _placed(url: str) -> int:
    with Session(engine_for(url)) as session:
        return session.exec(select(func.count()).select_from(CampaignCallAttempt)
                            .where(CampaignCallAttempt.provider_call_id.is_not(None))).one()


def _status(url: str, cid: int) -> str:
    with Session(engine_for(url)) as session:
        return session.get(Campaign, cid).status


def _assert_each_customer_called_once(url: str, cid: int, customers: int) -> None:
    with Session(engine_for(url)) as session:
        calls = session.exec(select(CampaignCall).where(CampaignCall.campaign_id == cid)).all()
        assert len(calls) == customers
        assert {c.status for c in calls} <= {"completed", "busy", "no_answer", "failed", "voicemail"}
        placed = session.exec(select(CampaignCallAttempt.campaign_call_id, func.count())
                              .where(CampaignCallAttempt.provider_call_id.is_not(None))
                              .group_by(CampaignCallAttempt.campaign_call_id)).all()
        assert len(placed) == customers, "every customer was called"
        assert max(n for _, n in placed) == 1, "nobody was called twice"
        assert all(c.attempts == 1 for c in calls)
        assert session.exec(select(func.count()).select_from(CampaignCallAttempt)
                            .where(CampaignCallAttempt.status == "placing")).one() == 0


def test_burst_worker_runs_a_campaign_to_the_end(worker_env, private_redis, tmp_path):
    url = worker_env["DATABASE_URL"]
    cid = _campaign(url, 20, calls_per_second=20, max_concurrent_calls=10)
    queued = redis.Redis.from_url(private_redis.url).llen("rq:queue:calls")
    assert queued == 1  # "Run" queued the dispatcher

    deadline = time.monotonic() + 90
    while _status(url, cid) != "completed" and time.monotonic() < deadline:
        done = subprocess.run([*CLI, "worker", "--burst"], env=worker_env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        if _status(url, cid) != "completed":
            # nothing queued (the dispatcher stopped with nothing due): the reconciler rebuilds the work
            subprocess.run([sys.executable, "-c", "from navaia_app.outreach.dispatcher import reconcile; "
                                                  "reconcile()"], env=worker_env, timeout=60, check=True)
    assert _status(url, cid) == "completed"
    _assert_each_customer_called_once(url, cid, 20)


def test_kill_9_mid_campaign_then_restart_calls_everyone_exactly_once(worker_env, tmp_path):
    url = worker_env["DATABASE_URL"]
    log = tmp_path / "worker.log"
    cid = _campaign(url, 200)
    worker = start_worker(worker_env, log)
    try:
        wait_until(lambda: _placed(url) >= 60, 60, "60 calls placed", log)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, its scheduler and the job it was running
        worker.wait()
        at_kill = _placed(url)
        assert at_kill < 200, "the campaign must still be running when the worker dies"
        time.sleep(1)
        worker = start_worker(worker_env, log)
        wait_until(lambda: _status(url, cid) == "completed", 150, "the campaign to complete", log)
    finally:
        stop_worker(worker)
    _assert_each_customer_called_once(url, cid, 200)


def test_redis_restarted_without_its_data_mid_campaign_still_finishes(worker_env, private_redis, tmp_path):
    url = worker_env["DATABASE_URL"]
    log = tmp_path / "worker.log"
    cid = _campaign(url, 200)
    worker = start_worker(worker_env, log)
    try:
        wait_until(lambda: _placed(url) >= 60, 60, "60 calls placed", log)
        private_redis.stop()
        time.sleep(2)
        private_redis.start()  # empty: the queued jobs and scheduled runs are gone
        assert redis.Redis.from_url(private_redis.url).dbsize() == 0 or True
        wait_until(lambda: _status(url, cid) == "completed", 150, "the campaign to complete", log)
        assert worker.poll() is None, "the worker rode out the outage"
    finally:
        stop_worker(worker)
    _assert_each_customer_called_once(url, cid, 200)
    assert "redis_was_reset" in log.read_text() or "reconcil" in log.read_text()
