"""The activity timeline of a ticket or a booking: who changed what, when, from what to what, and comments.

One table for every kind of record (`subject_type`, `subject_id`), written only by the feature services,
in the same unit of work as the change it describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.activity.models import MAX_BODY, MAX_VALUE, ActivityEntry
from navaia_app.audit import service as audit
from navaia_app.auth.models import User
from navaia_app.core.db import clear_references
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow

log = get_logger(__name__)


def record_activity(
    session: Session, *, subject_type: str, subject_id: int, kind: str, actor_id: int | None = None,
    from_value: object = None, to_value: object = None, body: str = "", at: datetime | None = None,
) -> ActivityEntry:
    """Add an entry to a ticket's or a booking's timeline in the caller's transaction; values longer than the
    columns are cut, never refused.
    """
    def text(value: object) -> str | None:
        return None if value is None else str(value)[:MAX_VALUE]

    entry = ActivityEntry(subject_type=subject_type, subject_id=subject_id, kind=kind, actor_id=actor_id,
                          from_value=text(from_value), to_value=text(to_value), body=(body or "")[:MAX_BODY],
                          created_at=at or utcnow())
    session.add(entry)
    return entry


@dataclass
class ActivityView:
    """An entry with the name of who did it ("" when the system or the AI agent did)."""

    entry: ActivityEntry
    actor_name: str


def list_activity(session: Session, *, subject_type: str, subject_id: int, limit: int = 500) -> list[ActivityView]:
    """Oldest first, as a timeline reads."""
    rows = session.exec(
        select(ActivityEntry, User.name)
        .join(User, User.id == ActivityEntry.actor_id, isouter=True)
        .where(ActivityEntry.subject_type == subject_type, ActivityEntry.subject_id == subject_id)
        .order_by(ActivityEntry.created_at, ActivityEntry.id)
        .limit(limit)
    )
    return [ActivityView(entry=entry, actor_name=name or "") for entry, name in rows]


def delete_activity(session: Session, *, subject_type: str, subject_id: int) -> None:
    """Delete the timeline of a ticket or a booking (with the record itself)."""
    session.exec(sa.delete(ActivityEntry).where(ActivityEntry.subject_type == subject_type,
                                                ActivityEntry.subject_id == subject_id))


def delete_with_timeline(session: Session, record, *, subject_type: str, table: str, actor=None) -> None:
    """Delete a ticket or a booking (`record`) with its timeline, in the caller's unit of work. The call that
    made it stays, only its link (`conversations.<subject_type>_id`) goes; pages showing `table` are told;
    audited as `<subject_type>.deleted` and logged."""
    record_id = record.id
    clear_references(session, "conversations", f"{subject_type}_id", record_id)
    delete_activity(session, subject_type=subject_type, subject_id=record_id)
    session.delete(record)
    session.flush()
    bump(session, table)
    audit.record(session, action=f"{subject_type}.deleted", actor=actor, target_type=subject_type, target_id=record_id)
    log.info(f"{subject_type}.deleted", **{f"{subject_type}_id": record_id})
