"""The retention policy (how long personal data is kept) and what its last purge removed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow


class RetentionPolicy(SQLModel, table=True):
    """How long personal data is kept (days; None = forever), and what the last purge removed."""

    __tablename__ = "retention_policy"

    id: int = Field(default=1, primary_key=True)
    # No column default: a column default would turn an explicit None (forever) back into the default.
    recordings_days: int | None = Field(default=90, sa_column=sa.Column(sa.Integer, nullable=True))
    transcripts_days: int | None = Field(default=365, sa_column=sa.Column(sa.Integer, nullable=True))
    payloads_days: int | None = Field(default=365, sa_column=sa.Column(sa.Integer, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    last_run_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_run_report: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
