"""Jobs that run on a schedule, through RQ's own scheduler (the worker runs it: `with_scheduler=True`).

Each run is booked in RQ's scheduled registry under an id made of the job's name and its time
slot, with `unique=True`: every worker may book the next run as often as it likes (at start and
at each maintenance pass) and it still runs once, whether there is one worker or ten, and a
schedule lost with Redis's data comes back on the next pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import redis
from rq.exceptions import DuplicateJobError

from navaia_app.core.queues import CALLS_QUEUE, DEFAULT_QUEUE, get_queue
from navaia_app.core.types import utcnow


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: str
    every: timedelta
    queue: str = DEFAULT_QUEUE


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("purge-expired-sessions", "navaia_app.jobs.tasks.purge_expired_sessions", timedelta(hours=1)),
    PeriodicJob("sweep-webhook-inbox", "navaia_app.jobs.tasks.sweep_webhook_inbox", timedelta(minutes=1)),
    PeriodicJob("sweep-outgoing-webhooks", "navaia_app.jobs.tasks.sweep_outgoing_webhooks", timedelta(seconds=15)),
    PeriodicJob("purge-past-retention", "navaia_app.jobs.tasks.purge_past_retention", timedelta(days=1)),
    PeriodicJob("roll-up-call-analytics", "navaia_app.jobs.tasks.roll_up_call_analytics", timedelta(hours=1)),
)


def _reconcile_every() -> timedelta:
    from navaia_app.core.settings import get_settings

    return timedelta(seconds=get_settings().campaign_reconcile_seconds)


# Campaigns: rebuilds the calling work from the database (it books its own next run each time).
RECONCILE = PeriodicJob("reconcile-campaigns", "navaia_app.jobs.calls.reconcile_campaigns", _reconcile_every(),
                        queue=CALLS_QUEUE)
PERIODIC_JOBS = (*PERIODIC_JOBS, RECONCILE)


def _reminders_every() -> timedelta:
    from navaia_app.core.settings import get_settings

    return timedelta(seconds=get_settings().reminders_every_seconds)


# Booking reminders: send what is due, settle reminder calls that ended (reminders/sender.py).
REMINDERS = PeriodicJob("send-due-reminders", "navaia_app.jobs.tasks.send_due_reminders", _reminders_every())
PERIODIC_JOBS = (*PERIODIC_JOBS, REMINDERS)


def elevenlabs_sync_job() -> PeriodicJob | None:
    """The backstop for lost post-call webhooks, every ELEVENLABS_SYNC_SECONDS (None when 0: off)."""
    from navaia_app.core.settings import get_settings

    seconds = get_settings().elevenlabs_sync_seconds
    if seconds <= 0:
        return None
    return PeriodicJob("sync-elevenlabs-conversations", "navaia_app.jobs.tasks.sync_elevenlabs_conversations",
                       timedelta(seconds=seconds))


def periodic_jobs() -> tuple[PeriodicJob, ...]:
    """PERIODIC_JOBS, and those the settings switch on."""
    sync = elevenlabs_sync_job()
    return (*PERIODIC_JOBS, sync) if sync is not None else PERIODIC_JOBS


# Run once whenever a worker starts and whenever Redis comes back empty (restarted without its data):
# they rebuild from the database whatever work Redis carried.
STARTUP_JOBS: tuple[tuple[str, str], ...] = (("navaia_app.jobs.calls.reconcile_campaigns", CALLS_QUEUE),
                                             ("navaia_app.jobs.tasks.sweep_outgoing_webhooks", DEFAULT_QUEUE),
                                             ("navaia_app.jobs.tasks.send_due_reminders", DEFAULT_QUEUE))
FRESH_REDIS_MARKER = "navaia:worker:redis-seen"


def run_startup_jobs(connection: redis.Redis, *, queues, force: bool = True) -> bool:
    """Queue the startup jobs (for the queues served). Without `force`, only when Redis is new to us
    (the marker key is gone: a restart without persistence). Returns whether they were queued."""
    fresh = bool(connection.set(FRESH_REDIS_MARKER, "1", nx=True))
    if not (force or fresh):
        return False
    for func, queue in STARTUP_JOBS:
        if queue in queues:
            get_queue(queue, connection=connection).enqueue(func, job_timeout=600, result_ttl=600,
                                                            description="startup reconcile")
    return True


def next_run(job: PeriodicJob, now: datetime) -> datetime:
    """The first slot boundary strictly after `now` (slots are aligned on the Unix epoch)."""
    every = int(job.every.total_seconds())
    slot = (int(now.timestamp()) // every + 1) * every
    return datetime.fromtimestamp(slot, timezone.utc)


def schedule_periodic_jobs(
    connection: redis.Redis, *, now: datetime | None = None, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS,
) -> list[str]:
    """Book the next run of each periodic job unless it is booked already; returns the new job ids."""
    now = now or utcnow()
    booked = []
    for periodic in jobs:
        at = next_run(periodic, now)
        job_id = f"navaia-periodic-{periodic.name}-{int(at.timestamp())}"
        try:
            get_queue(periodic.queue, connection=connection).enqueue_at(
                at, periodic.func, job_id=job_id, unique=True, description=f"{periodic.name} (periodic)",
                job_timeout=600, result_ttl=int(periodic.every.total_seconds()) * 2,
                failure_ttl=7 * 24 * 3600,
            )
        except DuplicateJobError:
            continue
        booked.append(job_id)
    return booked
