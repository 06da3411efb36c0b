"""The dispatcher's lease: one dispatcher at a time, whatever the number of workers.

The lease is a row (`dispatch_leases`, name "dispatcher") taken by compare-and-set: an owner and
an expiry, renewed every half second by the running dispatcher; a worker that died on this machine
loses it at once (its pid is gone), one elsewhere when it expires. A job about to be queued books
it ("queued:<job id>") so two kicks never queue two dispatchers. The pacing clocks travel with the
lease, so the next slice goes on where the last one stopped. Safety does not rest on the lease
(claims and idempotency keys do that, see dispatcher.py): it only keeps the pacing exact.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from navaia_app.core import leases
from navaia_app.core.db import session_scope
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.outreach.models import DispatchLease

log = get_logger(__name__)

LEASE_NAME = "dispatcher"
LEASE_TTL = timedelta(seconds=10)
QUEUED_GRACE = timedelta(seconds=30)  # how long a queued dispatcher job may take to start

_in_dispatcher: ContextVar[bool] = ContextVar("navaia_in_dispatcher", default=False)


def in_dispatcher() -> bool:
    """Whether this code runs inside a dispatcher (which sees its own work: no kick needed)."""
    return _in_dispatcher.get()


def enter_dispatcher():
    """Mark this context as the dispatcher's; returns the token for `leave_dispatcher`."""
    return _in_dispatcher.set(True)


def leave_dispatcher(token) -> None:
    """Undo `enter_dispatcher`."""
    _in_dispatcher.reset(token)


def renew_in(session: Session, owner: str, now: datetime) -> bool:
    """`renew` inside the caller's unit of work (the dispatcher's own connection)."""
    return session.execute(sa.update(DispatchLease).where(
        DispatchLease.name == LEASE_NAME, DispatchLease.owner == owner).values(
        expires_at=now + LEASE_TTL, updated_at=now)).rowcount == 1


def run_owner(job_id: str) -> str:
    """The lease owner name of a running dispatcher job (host and pid: a dead one is noticed at once)."""
    return leases.process_owner("run", job_id)


def _owner_dead(owner: str) -> bool:
    """A dispatcher that ran on this machine in a process that no longer exists."""
    return leases.owner_dead(owner, "run")


def _lease(session: Session) -> DispatchLease:
    lease = session.get(DispatchLease, LEASE_NAME, populate_existing=True)
    if lease is None:  # the migration creates the row; this covers a database made another way
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(DispatchLease).values(
            name=LEASE_NAME, owner="", expires_at=datetime(2000, 1, 1, tzinfo=UTC), pacing={},
            updated_at=utcnow()).on_conflict_do_nothing())
        lease = session.get(DispatchLease, LEASE_NAME, populate_existing=True)
    return lease


def _take(session: Session, lease: DispatchLease, owner: str, expires: datetime) -> bool:
    """Compare-and-set on the lease row: only wins if nobody changed it since we read it."""
    now = utcnow()
    changed = session.execute(sa.update(DispatchLease).where(
        DispatchLease.name == LEASE_NAME, DispatchLease.owner == lease.owner,
        DispatchLease.expires_at == lease.expires_at).values(owner=owner, expires_at=expires, updated_at=now))
    return changed.rowcount == 1


def lease_free(lease: DispatchLease, now: datetime) -> bool:
    """Whether nobody holds the lease (never taken, expired, or its owner's process is gone)."""
    return not lease.owner or lease.expires_at <= now or _owner_dead(lease.owner)


def reserve(job_id: str, now: datetime | None = None) -> bool:
    """Book the lease for a dispatcher job about to be queued (False: one runs or is queued)."""
    now = now or utcnow()
    with session_scope() as session:
        lease = _lease(session)
        if not lease_free(lease, now):
            return False
        return _take(session, lease, f"queued:{job_id}", now + QUEUED_GRACE)


def acquire(job_id: str, owner: str, *, take_queued: bool = False) -> dict[str, Any] | None:
    """Take the lease for a dispatcher run (the one booked for `job_id`, or a free one). Returns the
    pacing clocks the last run left, or None when another dispatcher holds the lease."""
    now = utcnow()
    with session_scope() as session:
        lease = _lease(session)
        mine = lease.owner == f"queued:{job_id}" or (take_queued and lease.owner.startswith("queued:"))
        if not mine and not lease_free(lease, now):
            return None
        pacing = dict(lease.pacing or {})
        if not _take(session, lease, owner, now + LEASE_TTL):
            return None
        return pacing


def hand_over(owner: str, next_owner: str, expires: datetime, pacing: dict[str, Any]) -> bool:
    """Pass the lease (and the pacing clocks) to the job of the next slice; False when not ours any more."""
    with session_scope() as session:
        changed = session.execute(sa.update(DispatchLease).where(
            DispatchLease.name == LEASE_NAME, DispatchLease.owner == owner).values(
            owner=next_owner, expires_at=expires, pacing=pacing, updated_at=utcnow()))
        return changed.rowcount == 1


def release(owner: str, pacing: dict[str, Any] | None = None) -> None:
    """Free the lease if `owner` holds it, keeping the pacing clocks for the next run."""
    with session_scope() as session:
        values: dict[str, Any] = {"owner": "", "expires_at": utcnow(), "updated_at": utcnow()}
        if pacing is not None:
            values["pacing"] = pacing
        session.execute(sa.update(DispatchLease).where(DispatchLease.name == LEASE_NAME,
                                                       DispatchLease.owner == owner).values(**values))


def kick(*, reason: str = "") -> str | None:
    """Make sure a dispatcher runs soon: queue one unless one runs or is queued. Returns its job id
    (None: one runs or is queued already, or Redis is down and the reconciler will queue one)."""
    from navaia_app.core.queues import CALLS_QUEUE, enqueue

    if in_dispatcher():
        return None  # the running dispatcher sees its own work
    job_id = f"navaia-dispatch-{uuid.uuid4().hex[:16]}"
    if not reserve(job_id):
        return None
    job = enqueue("navaia_app.jobs.calls.run_dispatcher", queue_name=CALLS_QUEUE, job_id=job_id,
                  job_timeout=600,
                  result_ttl=300, failure_ttl=7 * 24 * 3600, description=f"dispatch calls ({reason or 'kick'})")
    if job is None:  # Redis is down: free the booking; the reconciler queues one when Redis is back
        release(f"queued:{job_id}")
        return None
    log.debug("dispatcher.kicked", job_id=job_id, reason=reason)
    return job_id
