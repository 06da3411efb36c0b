"""Job entry points of outbound calling: the dispatcher's slices and the reconciler. Thin and safe
to run twice (the database decides; see outreach/dispatcher.py)."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

# Imported here, not in the jobs: the worker imports this module when it starts, so the first job
# starts warm (a dispatcher slice hands over to the next one in milliseconds, not after an import).
from navaia_app.outreach import dispatcher
from navaia_app.core.logging import get_logger
from navaia_app.core.redis import get_redis
from navaia_app.telephony import simulated  # noqa: F401  (the default provider)

log = get_logger(__name__)


def run_dispatcher() -> dict[str, Any]:
    """One slice of the dispatcher (it queues the next slice itself while work is left)."""
    job = get_current_job()
    return dispatcher.run(job.id if job is not None else None)


def reconcile_campaigns() -> dict[str, Any]:
    """Periodic, and at every worker start or Redis restart: rebuild the work from the database."""
    from navaia_app.jobs.periodic import RECONCILE, schedule_periodic_jobs

    try:  # book the next run first: a failure below must not break the chain
        schedule_periodic_jobs(get_redis(), jobs=(RECONCILE,))
    except Exception as exc:
        log.warning("campaigns.reconcile_booking_failed", error=type(exc).__name__)
    return dispatcher.reconcile()
