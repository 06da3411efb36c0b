"""Fixtures of the job tests: a migrated SQLite file and a private corner of the real Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from navaia_app.core.db import engine_for
from navaia_app.core.migrations import upgrade_database
from navaia_app.core.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("NAVAIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DEAD_REDIS_URL = "redis://127.0.0.1:6390/0"  # nothing listens there


@pytest.fixture
def jobs_db(tmp_path, monkeypatch) -> Iterator[str]:
    """A migrated SQLite database that DATABASE_URL points at (here and in subprocesses)."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    upgrade_database(url)
    engine_for(url).dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("APP_ENV", "test")
    get_settings.cache_clear()
    yield url
    engine_for(url).dispose()
    get_settings.cache_clear()


@pytest.fixture
def test_redis(monkeypatch) -> Iterator[redis.Redis]:
    """The real Redis (database 15), with REDIS_URL pointing at it; skipped when it is not running."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {TEST_REDIS_URL}: {exc}")
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    get_settings.cache_clear()
    yield client
    client.close()
    get_settings.cache_clear()


@pytest.fixture
def queue_name(test_redis) -> Iterator[str]:
    """A queue no one else uses; every key that mentions it is deleted afterwards."""
    name = f"navaia-test-{uuid.uuid4().hex[:10]}"
    yield name
    for key in test_redis.scan_iter(match="rq:job:*"):
        if test_redis.type(key) == b"hash" and test_redis.hget(key, "origin") == name.encode():
            job_id = key.decode().removeprefix("rq:job:")
            test_redis.delete(key, f"rq:results:{job_id}")
    for key in test_redis.scan_iter(match=f"*{name}*"):
        test_redis.delete(key)
    test_redis.srem("rq:queues", f"rq:queue:{name}")

