"""Campaigns, their calls (one per customer) and each call's attempts; the REST schemas beside them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from navaia_app.core.types import DbInt, utc_column, utcnow

CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "paused", "completed", "cancelled")
CALL_STATUSES = (
    "pending", "queued", "ringing", "in_progress", "completed", "busy",
    "no_answer", "failed", "voicemail", "skipped", "cancelled",
)
# What a finished attempt can end as; the ones a retry policy may name.
FINAL_OUTCOMES = ("completed", "busy", "no_answer", "failed", "voicemail")
RETRYABLE_OUTCOMES = ("busy", "no_answer", "failed", "voicemail")
ACTIVE_CALL_STATUSES = ("queued", "ringing", "in_progress")
OPEN_CALL_STATUSES = ("pending", *ACTIVE_CALL_STATUSES)  # a campaign is not done while one of these is left
DONE_CALL_STATUSES = ("completed", "busy", "no_answer", "failed", "voicemail", "skipped", "cancelled")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AUDIENCE_TYPES = ("all", "filters", "customers", "csv")


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
    # Added by the campaigns work (migration 5a):
    status_reason: str | None = Field(default=None, max_length=300)
    # What the audience snapshot found: {"audience": n, "included": n, "excluded": {"do_not_call": n, ...}}
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    paused_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class CampaignCall(SQLModel, table=True):
    """One customer to call in a campaign (or, with no campaign, a one-off "Call now")."""

    __tablename__ = "campaign_calls"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_calls_campaign_customer"),
        sa.Index("ix_campaign_calls_due", "status", "next_attempt_at"),
        sa.Index("ix_campaign_calls_campaign_status_due", "campaign_id", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    status: str = Field(default="pending", max_length=16)  # 16: "voicemail_left"
    attempts: int = Field(default=0)  # attempts that reached the provider (what the retry policy counts)
    last_outcome: str | None = Field(default=None, max_length=40)
    skip_reason: str | None = Field(default=None, max_length=200)
    provider_call_id: str | None = Field(default=None, max_length=64, index=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", ondelete="SET NULL")
    variables: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    duration_seconds: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Added by the campaigns work (migration 5a):
    tries: int = Field(default=0)  # attempt rows created (numbers them; includes tries the provider refused)
    last_detail: str | None = Field(default=None, max_length=300)
    last_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    requested_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class CampaignCallAttempt(SQLModel, table=True):
    """One try at ringing a customer. Its idempotency key is what makes a retried job harmless:
    the key exists before the provider is asked, and a second job for it finds the row and stops."""

    __tablename__ = "campaign_call_attempts"
    __table_args__ = (
        sa.UniqueConstraint("campaign_call_id", "number", name="uq_campaign_call_attempts_call_number"),
        sa.Index("ix_campaign_call_attempts_status", "status"),
        # analytics: a campaign's attempts, or everyone's, over a period (analytics/service.py)
        sa.Index("ix_campaign_call_attempts_campaign_placed", "campaign_id", "placed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_call_id: int = Field(foreign_key="campaign_calls.id", index=True, ondelete="CASCADE")
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    number: int = Field(default=1)
    idempotency_key: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    provider: str = Field(max_length=20)
    # placing -> ringing -> in_progress -> ended; not_placed when the provider never took it
    status: str = Field(default="placing", max_length=12)
    provider_call_id: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    outcome: str | None = Field(default=None, max_length=16)
    detail: str | None = Field(default=None, max_length=300)
    external_conversation_id: str | None = Field(default=None, max_length=128)
    duration_seconds: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    placed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Added by the call-analytics release (migration 8a_call_analytics): what the carrier charged, when it says.
    cost: float | None = Field(default=None, sa_column=sa.Column(sa.Numeric(12, 5), nullable=True))
    cost_unit: str | None = Field(default=None, max_length=8)  # ISO currency, e.g. USD


class CallStatusEvent(SQLModel, table=True):
    """Provider callbacks already seen: a repeated (call, status) changes nothing."""

    __tablename__ = "call_status_events"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_call_id", "status", name="uq_call_status_events_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    provider_call_id: str = Field(max_length=64)
    status: str = Field(max_length=40)
    response: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))  # TwiML answered
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class DispatchLease(SQLModel, table=True):
    """Who runs the dispatcher now (one at a time), until when, and its pacing clock."""

    __tablename__ = "dispatch_leases"

    name: str = Field(primary_key=True, max_length=40)
    owner: str = Field(default="", max_length=200)
    expires_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    pacing: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


# --- REST schemas ------------------------------------------------------------------------------


class AudienceIn(BaseModel):
    """Who a campaign calls. `customer_ids` in the body is a shortcut for type "customers"."""

    model_config = ConfigDict(extra="forbid")
    type: str = "all"
    q: str | None = None
    timezone: str | None = None
    phone_prefix: str | None = None
    customer_ids: list[DbInt] | None = None


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str
    purpose: str = ""
    customer_ids: list[DbInt] | None = PydanticField(
        default=None, description="Hand-picked customers; omitted: every customer (or `audience`)")
    audience: AudienceIn | None = None
    calls_per_second: float = 1.0
    max_concurrent_calls: int = 5
    max_attempts: int = 3
    retry_spacing_minutes: int = 60
    retry_on: list[str] = PydanticField(default_factory=lambda: list(RETRYABLE_OUTCOMES))
    calling_window_start: str = "09:00"
    calling_window_end: str = "18:00"
    calling_days: list[str] = PydanticField(default_factory=lambda: list(WEEKDAYS[:5]))
    start_at: datetime | None = None
    variables: dict[str, Any] = PydanticField(default_factory=dict)


class CampaignPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = None
    purpose: str | None = None
    customer_ids: list[DbInt] | None = None
    audience: AudienceIn | None = None
    calls_per_second: float | None = None
    max_concurrent_calls: int | None = None
    max_attempts: int | None = None
    retry_spacing_minutes: int | None = None
    retry_on: list[str] | None = None
    calling_window_start: str | None = None
    calling_window_end: str | None = None
    calling_days: list[str] | None = None
    start_at: datetime | None = None
    variables: dict[str, Any] | None = None


class CampaignOut(BaseModel):
    id: int
    name: str
    purpose: str
    status: str
    status_reason: str | None
    audience: dict[str, Any]
    variables: dict[str, Any]
    start_at: datetime | None
    calling_window_start: str
    calling_window_end: str
    calling_days: list[str]
    calls_per_second: float
    max_concurrent_calls: int
    max_attempts: int
    retry_spacing_minutes: int
    retry_on: list[str]
    counts: dict[str, int]
    total_calls: int
    progress: float
    snapshot: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class CampaignCallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    campaign_id: int | None
    customer_id: int
    status: str
    attempts: int
    last_outcome: str | None
    last_detail: str | None
    skip_reason: str | None
    provider_call_id: str | None
    conversation_id: int | None
    duration_seconds: int | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    variables: dict[str, Any]
    created_at: datetime
    updated_at: datetime
