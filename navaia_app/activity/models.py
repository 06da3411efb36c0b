"""The activity timeline table: who changed what on a ticket or a booking, and comments."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow

SUBJECT_TYPES = ("ticket", "booking")
# created, status, priority, assignee, category, rescheduled, edited, comment
MAX_VALUE, MAX_BODY = 200, 4000


class ActivityEntry(SQLModel, table=True):
    __tablename__ = "activity_entries"
    __table_args__ = (
        sa.CheckConstraint("subject_type IN ('ticket','booking')", name="ck_activity_entries_subject_type"),
        sa.Index("ix_activity_entries_subject", "subject_type", "subject_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=16)
    subject_id: int
    kind: str = Field(max_length=20)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")  # None: system or AI
    from_value: str | None = Field(default=None, max_length=MAX_VALUE)
    to_value: str | None = Field(default=None, max_length=MAX_VALUE)
    body: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
