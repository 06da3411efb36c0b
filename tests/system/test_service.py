"""The System page's service on a real database and a real Redis (db 13, flushed around each test)."""

from __future__ import annotations

import pytest
import redis
from rq import Queue, SimpleWorker

from navaia_app.auth.models import User
from navaia_app.conversations.models import WebhookEvent
from navaia_app.core.errors import NotFound, PermissionDenied
from navaia_app.system import service

import os

# One Redis database per xdist worker (13, or 10, 11, ... under -n), flushed around each test.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
REDIS_TEST_URL = f"redis://127.0.0.1:6379/{10 + int(_WORKER[2:]) if _WORKER else 13}"


def always_fails():
    raise RuntimeError("the provider said no")


@pytest.fixture
def test_redis(set_env):
    conn = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        conn.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    conn.flushdb()
    set_env(REDIS_URL=REDIS_TEST_URL)
    from navaia_app.core import redis as core_redis

    core_redis._last_check = (0.0, False)
    yield conn
    conn.flushdb()


def _admin(session, role="admin"):
    user = User(email=f"{role}@example.com", name=role.title(), password_hash="x", role=role)
    session.add(user)
    session.commit()
    return user


def test_failed_jobs_are_listed_and_can_run_again(session, test_redis):
    admin = _admin(session)
    queue = Queue("default", connection=test_redis)
    job = queue.enqueue(always_fails)
    SimpleWorker([queue], connection=test_redis).work(burst=True)

    status = service.system_status(session=session, viewer=admin)
    assert status.redis_ok
    assert status.queues["default"]["failed"] == 1 and status.queues["default"]["waiting"] == 0
    [failed] = status.failed_jobs
    assert failed.id == job.id and "the provider said no" in failed.error

    service.requeue_failed_job(session=session, viewer=admin, job_id=job.id)
    session.commit()
    status = service.system_status(session=session, viewer=admin)
    assert status.queues["default"] == {"waiting": 1, "running": 0, "failed": 0}
    entries, _ = service.audit_log(session=session, viewer=admin, action="job.requeued")
    assert [e.target_id for e in entries] == [job.id]
    with pytest.raises(NotFound):
        service.requeue_failed_job(session=session, viewer=admin, job_id=job.id)


def test_inbox_backlog_is_counted(session, test_redis):
    admin = _admin(session)
    for n, status in enumerate(("pending", "pending", "failed", "processed")):
        session.add(WebhookEvent(source="elevenlabs", event_type="post_call_transcription", external_id=f"c{n}",
                                 payload="{}", status=status))
    session.commit()
    status = service.system_status(session=session, viewer=admin)
    assert status.inbox == {"pending": 2, "failed": 1, "processed": 1}
    assert status.oldest_pending is not None


def test_only_admins_see_the_system(session, test_redis):
    agent = _admin(session, role="agent")
    with pytest.raises(PermissionDenied):
        service.system_status(session=session, viewer=agent)
    with pytest.raises(PermissionDenied):
        service.audit_log(session=session, viewer=agent)


def test_redis_down_is_reported_not_raised(session, set_env):
    admin = _admin(session)
    set_env(REDIS_URL="redis://127.0.0.1:6391/0")
    from navaia_app.core import redis as core_redis

    core_redis._last_check = (0.0, False)
    status = service.system_status(session=session, viewer=admin)
    assert status.redis_ok is False and status.queues == {}


def test_audit_log_records_sign_ins_and_user_changes_without_secrets(session):
    from navaia_app.auth import service as auth_service

    admin = auth_service.create_user(session=session, email="ada@example.com", password="orbit lantern meadow",
                                     name="Ada", role="admin")
    session.commit()
    auth_service.authenticate(session=session, email="ada@example.com", password="orbit lantern meadow",
                              client="10.0.0.9")
    agent = auth_service.create_user(session=session, email="bob@example.com", password="quiet harbor lamp",
                                     name="Bob", actor=admin)
    auth_service.update_user(session=session, actor=admin, user_id=agent.id, role="admin")
    session.commit()
    with pytest.raises(Exception):
        auth_service.authenticate(session=session, email="ada@example.com", password="wrong password!",
                                  client="10.0.0.9")
    entries, total = service.audit_log(session=session, viewer=admin)
    actions = [e.action for e in entries]
    assert {"user.created", "auth.signed_in", "user.updated", "auth.sign_in_failed"} <= set(actions)
    assert all("orbit" not in str(e.detail) and "wrong password" not in str(e.detail) for e in entries)
    created_bob = next(e for e in entries if e.action == "user.created" and e.target_id == str(agent.id))
    assert created_bob.actor_email == "ada@example.com"
