from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow

CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "paused", "completed", "cancelled")
CALL_STATUSES = (
    "pending", "queued", "ringing", "in_progress", "completed", "busy",
    "no_answer", "failed", "voicemail", "skipped", "cancelled",
)


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('draft','scheduled','running','paused','completed','cancelled')", name="ck_campaigns_status"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    purpose: str = Field(default="", max_length=2000)
    status: str = Field(default="draft", max_length=12, index=True)
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    variables: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    start_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    calling_window_start: str = Field(default="09:00", max_length=5)
    calling_window_end: str = Field(default="18:00", max_length=5)
    calling_days: str = Field(default="mon,tue,wed,thu,fri", max_length=40)
    calls_per_second: float = Field(default=1.0)
    max_concurrent_calls: int = Field(default=5)
    max_attempts: int = Field(default=3)
    retry_spacing_minutes: int = Field(default=60)
    retry_on: str = Field(default="busy,no_answer,failed,voicemail", max_length=80)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class CampaignCall(SQLModel, table=True):
    __tablename__ = "campaign_calls"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_calls_campaign_customer"),
        sa.Index("ix_campaign_calls_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    status: str = Field(default="pending", max_length=12)
    attempts: int = Field(default=0)
    last_outcome: str | None = Field(default=None, max_length=40)
    skip_reason: str | None = Field(default=None, max_length=200)
    provider_call_id: str | None = Field(default=None, max_length=64, index=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", ondelete="SET NULL")
    variables: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    duration_seconds: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
