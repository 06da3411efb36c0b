"""The RQ queues, and how the rest of the app hands work to the worker.

Queues only carry work; the database stays the source of truth, so every job must be
safe to run twice and whatever enqueues it must cope with Redis being down (a sweeper
picks the work up later).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from rq import Queue
from rq.job import Job

from navaia_app.core.logging import get_logger, log_context
from navaia_app.core.redis import get_redis
from navaia_app.core.settings import get_settings

log = get_logger(__name__)

DEFAULT_QUEUE = "default"
CALLS_QUEUE = "calls"  # outbound calls: kept apart so a long campaign never delays other work
QUEUE_NAMES = (CALLS_QUEUE, DEFAULT_QUEUE)  # the order a worker serves them in


def describe_redis(url: str | None = None) -> str:
    """host:port/db of a Redis URL, never its password."""
    parts = urlsplit(url or get_settings().redis_url)
    db = parts.path.lstrip("/") or "0"
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}/{db}"


def get_queue(name: str = DEFAULT_QUEUE, *, connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or get_redis())


def enqueue(func_path: str, *args, queue_name: str = DEFAULT_QUEUE, **kwargs) -> Job | None:
    """Queue `func_path(*args, **kwargs)`; None (and a warning, no exception) when Redis is down.

    RQ's own options (job_id, job_timeout, result_ttl, retry, ...) pass through in kwargs.
    """
    # the job's log lines carry the request (and user) that asked for it
    context = {k: v for k, v in log_context().items() if k in ("request_id", "user_id")}
    if context:
        kwargs["meta"] = {**context, **(kwargs.get("meta") or {})}
    try:
        job = get_queue(queue_name).enqueue(func_path, *args, **kwargs)
    except redis.RedisError as exc:
        log.warning("job.enqueue_failed", func=func_path, queue=queue_name, redis=describe_redis(),
                    error=type(exc).__name__)
        return None
    log.debug("job.enqueued", func=func_path, queue=queue_name, job_id=job.id)
    return job
