"""Job entry points: what the worker runs. Each is thin (opens a unit of work, calls a service) and
safe to run twice."""

from __future__ import annotations

from navaia_app.core.db import session_scope
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow

log = get_logger(__name__)


def purge_expired_sessions() -> dict[str, int]:
    """Hourly: delete long-dead sign-in sessions and stale sign-in throttle rows."""
    from navaia_app.auth.maintenance import purge_stale_auth_rows

    with session_scope() as session:
        removed = purge_stale_auth_rows(session=session, now=utcnow())
    log.info("auth.purged", sessions=removed["sessions"], throttles=removed["throttles"])
    return removed
