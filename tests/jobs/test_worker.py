"""The job worker on the real Redis: queues, the hourly purge, periodic booking, Redis outages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rq import Queue
from rq.job import Job, JobStatus
from sqlmodel import Session, select

from navaia_app.auth.maintenance import purge_stale_auth_rows
from navaia_app.auth.models import AuthSession, LoginThrottle, User
from navaia_app.core.db import engine_for
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.jobs.periodic import PeriodicJob, next_run, schedule_periodic_jobs
from navaia_app.core.queues import enqueue

from .conftest import DEAD_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "navaia_app.cli"]


def _env(**overrides: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "test", "LOG_LEVEL": "INFO", **overrides}


def _add_auth_rows(url: str, now: datetime) -> dict[str, int]:
    """One row of each kind the purge must delete or keep; returns their ids/keys by name."""
    with Session(engine_for(url), expire_on_commit=False) as db:
        user = User(email="purge@example.com", name="Purge", password_hash="x", role="agent")
        db.add(user)
        db.flush()

        def add_session(name: str, *, expires: timedelta, revoked: timedelta | None = None) -> AuthSession:
            row = AuthSession(token_hash=name.ljust(64, "0"), user_id=user.id, created_at=now - timedelta(days=30),
                              last_seen_at=now - timedelta(days=20), expires_at=now + expires,
                              revoked_at=now + revoked if revoked is not None else None)
            db.add(row)
            return row

        rows = {
            "expired_long_ago": add_session("a", expires=-timedelta(days=8)),
            "expired_recently": add_session("b", expires=-timedelta(days=2)),
            "revoked_long_ago": add_session("c", expires=timedelta(hours=1), revoked=-timedelta(days=9)),
            "revoked_recently": add_session("d", expires=-timedelta(days=1), revoked=-timedelta(days=3)),
            "active": add_session("e", expires=timedelta(hours=5)),
        }
        db.add(LoginThrottle(key="acct:old@example.com", failures=3, last_failure_at=now - timedelta(days=2)))
        db.add(LoginThrottle(key="acct:new@example.com", failures=3, last_failure_at=now - timedelta(hours=2)))
        db.commit()
        return {name: row.id for name, row in rows.items()}


def _remaining(url: str) -> tuple[set[int], set[str]]:
    with Session(engine_for(url)) as db:
        return set(db.exec(select(AuthSession.id))), set(db.exec(select(LoginThrottle.key)))


def test_purge_rule_keeps_recent_and_live_rows(jobs_db):
    now = utcnow()
    ids = _add_auth_rows(jobs_db, now)
    with Session(engine_for(jobs_db)) as db:
        removed = purge_stale_auth_rows(session=db, now=now)
        db.commit()
    assert removed == {"sessions": 2, "throttles": 1}
    sessions, throttles = _remaining(jobs_db)
    assert sessions == {ids["expired_recently"], ids["revoked_recently"], ids["active"]}
    assert throttles == {"acct:new@example.com"}


def test_burst_worker_runs_the_purge_job_from_the_queue(jobs_db, test_redis, queue_name):
    ids = _add_auth_rows(jobs_db, utcnow())
    job = enqueue("navaia_app.jobs.tasks.purge_expired_sessions", queue_name=queue_name)
    assert job is not None and Queue(queue_name, connection=test_redis).count == 1

    done = subprocess.run([*CLI, "worker", "--burst", "--queues", queue_name], env=_env(),
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    job = Job.fetch(job.id, connection=test_redis)
    assert job.get_status() == JobStatus.FINISHED, done.stderr
    assert job.return_value() == {"sessions": 2, "throttles": 1}
    sessions, throttles = _remaining(jobs_db)
    assert sessions == {ids["expired_recently"], ids["revoked_recently"], ids["active"]}
    assert throttles == {"acct:new@example.com"}


def test_periodic_job_is_booked_once_for_its_next_slot(test_redis, queue_name):
    hourly = PeriodicJob(f"purge-{queue_name}", "navaia_app.jobs.tasks.purge_expired_sessions",
                         timedelta(hours=1), queue=queue_name)  # a unique name: other test runs share this Redis
    now = datetime(2026, 3, 4, 10, 15, tzinfo=timezone.utc)
    assert next_run(hourly, now) == datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)
    assert next_run(hourly, datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)) == datetime(2026, 3, 4, 12, 0,
                                                                                           tzinfo=timezone.utc)

    first = schedule_periodic_jobs(test_redis, now=now, jobs=(hourly,))
    again = schedule_periodic_jobs(test_redis, now=now + timedelta(minutes=20), jobs=(hourly,))

    assert len(first) == 1 and again == []
    registry = Queue(queue_name, connection=test_redis).scheduled_job_registry
    assert registry.get_job_ids() == first
    assert registry.get_scheduled_time(first[0]) == datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)


def test_enqueue_without_redis_returns_none(monkeypatch):
    monkeypatch.setenv("REDIS_URL", DEAD_REDIS_URL)
    get_settings.cache_clear()
    try:
        started = time.monotonic()
        assert enqueue("navaia_app.jobs.tasks.purge_expired_sessions") is None
        assert time.monotonic() - started < 5
    finally:
        get_settings.cache_clear()


def test_worker_keeps_waiting_for_redis_and_stops_on_sigterm(jobs_db):
    worker = subprocess.Popen([*CLI, "worker"], env=_env(REDIS_URL=DEAD_REDIS_URL),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4)
        assert worker.poll() is None, "the worker must not exit while Redis is down"
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, err
    notices = [line for line in err.splitlines() if "background jobs unavailable" in line]
    assert len(notices) >= 2, err  # it retried
    assert "Redis at 127.0.0.1:6390/0 is not answering; retrying" in notices[0]
    assert "worker.stopped" in err
    assert "Traceback" not in err
