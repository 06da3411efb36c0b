"""The Redis connection for jobs; the web app keeps working (and says so) when Redis is down."""

from __future__ import annotations

import time
from functools import lru_cache

import redis

from navaia_app.core.settings import get_settings

_last_check: tuple[float, bool] = (0.0, False)


@lru_cache(maxsize=4)
def redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2, health_check_interval=30)


def get_redis() -> redis.Redis:
    return redis_for(get_settings().redis_url)


def redis_available(max_age: float = 2.0) -> bool:
    """Whether Redis answers a PING; cached briefly so pages and health checks stay fast."""
    global _last_check
    checked_at, ok = _last_check
    now = time.monotonic()
    if now - checked_at < max_age:
        return ok
    try:
        ok = bool(get_redis().ping())
    except redis.RedisError:
        ok = False
    _last_check = (now, ok)
    return ok
