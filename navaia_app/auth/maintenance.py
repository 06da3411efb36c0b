"""Housekeeping of sign-in records, so expired sessions and old throttle rows do not pile up."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from navaia_app.auth.models import AuthSession, LoginThrottle

# Kept a while after they stop working so a recent sign-out or lock can still be looked into.
SESSION_RETENTION = timedelta(days=7)
THROTTLE_RETENTION = timedelta(days=1)


def purge_stale_auth_rows(*, session: Session, now: datetime) -> dict[str, int]:
    """Delete sessions expired or revoked over 7 days ago and throttle rows idle for over a day."""
    session_cutoff = now - SESSION_RETENTION
    sessions = session.exec(
        sa.delete(AuthSession).where(
            sa.or_(AuthSession.expires_at < session_cutoff, AuthSession.revoked_at < session_cutoff)
        )
    )
    throttles = session.exec(
        sa.delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - THROTTLE_RETENTION,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
    )
    return {"sessions": sessions.rowcount or 0, "throttles": throttles.rowcount or 0}
