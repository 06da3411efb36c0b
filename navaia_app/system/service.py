"""What an administrator needs to see to trust the background machinery: queues, workers, failed
jobs (re-runnable), the webhook inbox backlog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import redis
import sqlalchemy as sa
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlmodel import Session

from navaia_app.audit import service as audit
from navaia_app.auth.permissions import require
from navaia_app.core.errors import NotFound, ValidationFailed
from navaia_app.core.queues import QUEUE_NAMES
from navaia_app.core.redis import get_redis, redis_available
from navaia_app.core.settings import get_settings

MAX_FAILED_LISTED = 50


@dataclass
class FailedJob:
    id: str
    queue: str
    func: str
    failed_at: str
    error: str


@dataclass
class SystemStatus:
    redis_ok: bool
    queues: dict[str, dict[str, int]] = field(default_factory=dict)  # name -> waiting/running/failed
    workers: list[dict[str, str]] = field(default_factory=list)
    failed_jobs: list[FailedJob] = field(default_factory=list)
    inbox: dict[str, int] = field(default_factory=dict)  # webhook events by status
    oldest_pending: datetime | None = None
    sync_every_seconds: int = 0  # the lost-webhook backstop (0: off)
    sync_runs: list = field(default_factory=list)  # its last runs (conversations.models.SyncRun), newest first


def _inbox(session: Session) -> tuple[dict[str, int], datetime | None]:
    rows = session.exec(sa.text("SELECT status, COUNT(*) FROM webhook_events GROUP BY status")).all()
    oldest = session.exec(sa.text("SELECT MIN(received_at) FROM webhook_events WHERE status = 'pending'")).one()[0]
    if isinstance(oldest, str):  # SQLite returns text for a raw query
        oldest = datetime.fromisoformat(oldest)
    return {status: count for status, count in rows}, oldest


def system_status(*, session: Session, viewer) -> SystemStatus:
    """What an operator checks first: Redis up or not, each queue's waiting, running and failed jobs, the
    workers and their heartbeats, the failed jobs, the webhook inbox's backlog and the last backstop runs.
    Redis being down is a status, not an error. Raises PermissionDenied unless the viewer's role may see the
    System page.
    """
    require(viewer, "view_system")
    from navaia_app.conversations.backstop import last_runs

    inbox, oldest = _inbox(session)
    status = SystemStatus(redis_ok=redis_available(max_age=0), inbox=inbox, oldest_pending=oldest,
                          sync_every_seconds=get_settings().elevenlabs_sync_seconds,
                          sync_runs=last_runs(session=session, limit=5))
    if not status.redis_ok:
        return status
    conn = get_redis()
    try:
        for name in QUEUE_NAMES:
            queue = Queue(name, connection=conn)
            failed = FailedJobRegistry(queue=queue)
            status.queues[name] = {"waiting": queue.count, "running": StartedJobRegistry(queue=queue).count,
                                   "failed": failed.count}
            for job_id in failed.get_job_ids(0, MAX_FAILED_LISTED - 1):
                job = Job.fetch(job_id, connection=conn) if Job.exists(job_id, connection=conn) else None
                if job is None:
                    continue
                error = (job.latest_result().exc_string if job.latest_result() else "") or ""
                status.failed_jobs.append(FailedJob(
                    id=job.id, queue=name, func=job.func_name or "",
                    failed_at=job.ended_at.strftime("%Y-%m-%d %H:%M:%S UTC") if job.ended_at else "",
                    error=error.strip().splitlines()[-1][:300] if error.strip() else ""))
        for worker in Worker.all(connection=conn):
            status.workers.append({"name": worker.name, "state": str(worker.get_state()),
                                   "queues": ", ".join(worker.queue_names()),
                                   "last_heartbeat": worker.last_heartbeat.strftime("%H:%M:%S UTC")
                                   if worker.last_heartbeat else ""})
    except redis.RedisError:
        status.redis_ok = False
    return status


def audit_log(*, session: Session, viewer, action: str | None = None, limit: int = 50,
              offset: int = 0) -> tuple[list, int]:
    """One page of the audit log, newest first, and the total, optionally of one action. Raises
    PermissionDenied unless the viewer's role may see the System page."""
    require(viewer, "view_system")
    return audit.list_entries(session=session, action=action, limit=limit, offset=offset)


def requeue_failed_job(*, session: Session, viewer, job_id: str) -> None:
    """Run a failed job again (every job is safe to run twice: the database is the source of truth)."""
    require(viewer, "view_system")
    if not redis_available(max_age=0):
        raise ValidationFailed("Redis is not answering; try again once background jobs are back.")
    conn = get_redis()
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(queue=Queue(name, connection=conn))
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            audit.record(session, action="job.requeued", actor=viewer, target_type="job", target_id=job_id,
                         detail={"queue": name})
            return
    raise NotFound("That failed job is no longer in any queue.")
