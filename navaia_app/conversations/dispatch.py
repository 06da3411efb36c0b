"""Handing stored webhooks to the worker. Redis may be down: the inbox row stays pending and the
sweeper (jobs.tasks.sweep_webhook_inbox) hands it over again later, so nothing is lost.

One job carries every event that one inbox commit stored (one Redis round trip, one job for the
worker to start), and runs each event in its own transaction. Running an event twice is harmless:
it is claimed in the database first, so a second run skips it.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
from rq import Retry

from navaia_app.core.logging import get_logger
from navaia_app.core.queues import DEFAULT_QUEUE, get_queue

log = get_logger(__name__)

PROCESS_EVENTS = "navaia_app.jobs.tasks.process_webhook_events"
# Quick retries inside RQ for passing faults; the sweeper covers anything longer.
RETRY = Retry(max=3, interval=[5, 30, 120])
JOB_OPTIONS = {"job_timeout": 600, "result_ttl": 3600, "failure_ttl": 7 * 24 * 3600, "retry": RETRY}


def _describe(event_ids: list[int]) -> str:
    return f"webhook events {event_ids[0]}" + (f"..{event_ids[-1]} ({len(event_ids)})" if len(event_ids) > 1 else "")


def schedule_inbox_events(event_ids: Iterable[int], *, queue_name: str = DEFAULT_QUEUE,
                          connection: redis.Redis | None = None) -> bool:
    """Queue the processing of inbox rows as one job; False (logged, never raised) when Redis is down."""
    event_ids = list(event_ids)
    if not event_ids:
        return True
    try:
        get_queue(queue_name, connection=connection).enqueue(
            PROCESS_EVENTS, event_ids, description=_describe(event_ids), **JOB_OPTIONS)
    except redis.RedisError as exc:
        log.warning("webhook.enqueue_failed", count=len(event_ids), queue=queue_name, error=type(exc).__name__)
        return False
    return True


def schedule_inbox_event(event_id: int, *, queue_name: str = DEFAULT_QUEUE) -> bool:
    return schedule_inbox_events([event_id], queue_name=queue_name)
