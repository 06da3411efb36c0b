"""Nothing is lost when something breaks: a real RQ worker on a real Redis, Redis down while a webhook
arrives, the database down (the sender gets a 5xx and retries). Each server we break is our own,
started on a port of its own for the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue
from sqlmodel import Session, func, select

from navaia_app.conversations.models import Conversation, WebhookEvent
from navaia_app.core.db import engine_for
from navaia_app.core.types import utcnow
from navaia_app.jobs.periodic import PERIODIC_JOBS
from tests.support.servers import OwnPostgres, postgres_available

from .conftest import WEBHOOK, free_port, signed_headers, ticket_call

ROOT = Path(__file__).resolve().parents[2]


def burst_worker(database_url: str, redis_url: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "test", "DATABASE_URL": database_url,
           "REDIS_URL": redis_url, "MEDIA_DIR": str(tmp_path / "media"), "BUSINESS_HOURS": "mon-sun 08:00-20:00"}
    done = subprocess.run([sys.executable, "-m", "navaia_app.cli", "worker", "--burst"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def calls(database_url: str) -> list[Conversation]:
    with Session(engine_for(database_url)) as db:
        return list(db.exec(select(Conversation)))


def test_the_sweeper_is_scheduled_every_minute():
    sweeper = [job for job in PERIODIC_JOBS if job.func == "navaia_app.jobs.tasks.sweep_webhook_inbox"]
    assert len(sweeper) == 1 and sweeper[0].every == timedelta(minutes=1)


def test_a_real_worker_turns_the_webhook_into_a_ticket(post_webhook, own_redis, database_url, session, tmp_path):
    response = post_webhook(ticket_call("conv_worker"))
    assert response.status_code == 200
    event_id = response.json()["event_id"]
    assert Queue("default", connection=redis.Redis.from_url(own_redis.url)).count == 1  # handed to the worker

    burst_worker(database_url, own_redis.url, tmp_path)

    session.expire_all()
    event = session.get(WebhookEvent, event_id)
    assert (event.status, event.attempts) == ("processed", 1)
    [call] = calls(database_url)
    assert (call.external_id, call.outcome) == ("conv_worker", "ticket_created") and call.ticket_id


def test_redis_down_still_answers_200_and_the_record_appears_once_redis_is_back(post_webhook, own_redis,
                                                                                 database_url, session, tmp_path):
    own_redis.stop()
    started = time.monotonic()
    response = post_webhook(ticket_call("conv_no_redis"))
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert time.monotonic() - started < 3
    event_id = response.json()["event_id"]
    session.expire_all()
    assert session.get(WebhookEvent, event_id).status == "pending"  # durably stored, waiting
    assert calls(database_url) == []

    own_redis.start()  # Redis is back (empty: whatever it had is gone)
    # A minute later the worker's periodic sweeper runs; here we run that very job right away.
    session.exec(WebhookEvent.__table__.update().values(received_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    from navaia_app.core.queues import enqueue

    assert enqueue("navaia_app.jobs.tasks.sweep_webhook_inbox") is not None
    burst_worker(database_url, own_redis.url, tmp_path)

    session.expire_all()
    assert session.get(WebhookEvent, event_id).status == "processed"
    [call] = calls(database_url)
    assert (call.external_id, call.outcome) == ("conv_no_redis", "ticket_created")


def test_the_sweeper_hands_over_what_nobody_ran_in_one_job(post_webhook, own_redis, database_url, session,
                                                           tmp_path):
    from navaia_app.jobs.tasks import sweep_webhook_inbox

    own_redis.stop()
    for i in range(3):  # stored while Redis was down: nobody was told
        assert post_webhook(ticket_call(f"conv_swept_{i}")).status_code == 200
    own_redis.start()
    assert sweep_webhook_inbox() == 0  # too fresh: they may still be on their way
    session.exec(WebhookEvent.__table__.update().values(received_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert sweep_webhook_inbox() == 3
    queue = Queue("default", connection=redis.Redis.from_url(own_redis.url))
    assert queue.count == 1 and queue.jobs[0].args == (sorted(e.id for e in session.exec(select(WebhookEvent))),)
    burst_worker(database_url, own_redis.url, tmp_path)
    assert sorted(c.external_id for c in calls(database_url)) == [f"conv_swept_{i}" for i in range(3)]
    assert sweep_webhook_inbox() == 0  # nothing left


def test_one_failing_event_does_not_hold_up_the_others(post_webhook, session):
    from navaia_app.jobs.tasks import process_webhook_events

    ids = [post_webhook(ticket_call(f"conv_batch_{i}")).json()["event_id"] for i in range(3)]
    session.exec(WebhookEvent.__table__.update().where(WebhookEvent.id == ids[1]).values(payload="{broken"))
    session.commit()
    with pytest.raises(RuntimeError, match="1 webhook event"):  # so RQ retries the job
        process_webhook_events(ids)
    session.expire_all()
    assert [session.get(WebhookEvent, i).status for i in ids] == ["processed", "pending", "processed"]
    with pytest.raises(RuntimeError):
        process_webhook_events(ids)  # RQ's retry: the done ones are skipped, the broken one counted again
    session.expire_all()
    assert session.get(WebhookEvent, ids[1]).attempts == 2


def test_an_unreachable_database_is_503_with_retry_after(api_client, call_env, set_env):
    set_env(DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone?connect_timeout=2")
    body = json.dumps(ticket_call("conv_db_gone")).encode()
    response = api_client.post(WEBHOOK, content=body, headers=signed_headers(body))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5" and "not stored" in response.json()["detail"]


@pytest.fixture
def own_postgres():
    if not postgres_available():
        pytest.skip("PostgreSQL server binaries are not installed")
    server = OwnPostgres()
    try:
        server.init()
        yield server
    finally:
        engine_for(server.url).dispose()
        server.remove()


def test_database_down_is_503_and_the_retry_is_stored_once_it_is_back(api_client, call_env, set_env, own_postgres):
    from navaia_app.core.migrations import upgrade_database

    upgrade_database(own_postgres.url)
    set_env(DATABASE_URL=own_postgres.url)
    body = json.dumps(ticket_call("conv_db_down")).encode()

    own_postgres.stop()
    down = api_client.post(WEBHOOK, content=body, headers=signed_headers(body))
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"

    own_postgres.start()  # the sender retries (same body, a fresh signature)
    retried = api_client.post(WEBHOOK, content=body, headers=signed_headers(body))
    assert retried.status_code == 200 and retried.json()["status"] == "accepted"
    again = api_client.post(WEBHOOK, content=body, headers=signed_headers(body))
    assert again.json()["status"] == "duplicate"
    with Session(engine_for(own_postgres.url)) as db:
        assert db.exec(select(func.count()).select_from(WebhookEvent)).one() == 1
