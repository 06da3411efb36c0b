"""Campaigns, their calls (one per customer) and each call's attempts; the REST schemas beside them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import InputSchema, OutputSchema
from navaia_app.core.types import DbInt, utc_column, utcnow
from navaia_app.outreach.models import (  # noqa: F401  (the call tables live with the pipeline)
    CallStatusEvent,
    CampaignCall,
    CampaignCallAttempt,
    DispatchLease,
)
from navaia_app.outreach.outcomes import RETRYABLE_OUTCOMES

CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "paused", "completed", "cancelled")
@dataclass(frozen=True)
class CampaignDefaults:
    """What a new campaign starts with, in one place: the table, the REST body and the form use it."""

    calling_window_start: str = "09:00"
    calling_window_end: str = "18:00"
    calling_days: str = "mon,tue,wed,thu,fri"
    calls_per_second: float = 1.0
    max_concurrent_calls: int = 5
    max_attempts: int = 3
    retry_spacing_minutes: int = 60
    retry_on: str = ",".join(RETRYABLE_OUTCOMES)

    @property
    def days(self) -> list[str]:
        return self.calling_days.split(",")

    @property
    def retry_outcomes(self) -> list[str]:
        return self.retry_on.split(",")


DEFAULTS = CampaignDefaults()

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
    calling_window_start: str = Field(default=DEFAULTS.calling_window_start, max_length=5)
    calling_window_end: str = Field(default=DEFAULTS.calling_window_end, max_length=5)
    calling_days: str = Field(default=DEFAULTS.calling_days, max_length=40)
    calls_per_second: float = Field(default=DEFAULTS.calls_per_second)
    max_concurrent_calls: int = Field(default=DEFAULTS.max_concurrent_calls)
    max_attempts: int = Field(default=DEFAULTS.max_attempts)
    retry_spacing_minutes: int = Field(default=DEFAULTS.retry_spacing_minutes)
    retry_on: str = Field(default=DEFAULTS.retry_on, max_length=80)
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
    # Added by the voicemail work (migration 10c_voicemail): left on an answering machine; "" = hang up.
    voicemail_message: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))


# --- REST schemas ------------------------------------------------------------------------------


class AudienceIn(BaseModel):
    """Who a campaign calls. `customer_ids` in the body is a shortcut for type "customers"."""

    model_config = ConfigDict(extra="forbid")
    type: str = "all"
    q: str | None = None
    timezone: str | None = None
    phone_prefix: str | None = None
    customer_ids: list[DbInt] | None = None


class CampaignIn(InputSchema):
    name: str
    purpose: str = ""
    customer_ids: list[DbInt] | None = PydanticField(
        default=None, description="Hand-picked customers; omitted: every customer (or `audience`)")
    audience: AudienceIn | None = None
    calls_per_second: float = DEFAULTS.calls_per_second
    max_concurrent_calls: int = DEFAULTS.max_concurrent_calls
    max_attempts: int = DEFAULTS.max_attempts
    retry_spacing_minutes: int = DEFAULTS.retry_spacing_minutes
    retry_on: list[str] = PydanticField(default_factory=lambda: DEFAULTS.retry_outcomes)
    calling_window_start: str = DEFAULTS.calling_window_start
    calling_window_end: str = DEFAULTS.calling_window_end
    calling_days: list[str] = PydanticField(default_factory=lambda: DEFAULTS.days)
    start_at: datetime | None = None
    variables: dict[str, Any] = PydanticField(default_factory=dict)
    voicemail_message: str = PydanticField("", max_length=2000, description=(
        "Left on an answering machine once its greeting ends; {{variables}} as in the call (customer_name, the "
        "campaign's variables). Empty: hang up on machines."))


class CampaignPatch(InputSchema):
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
    voicemail_message: str | None = PydanticField(None, max_length=2000)


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
    voicemail_message: str = ""
    counts: dict[str, int]
    total_calls: int
    progress: float
    snapshot: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class CampaignCallOut(OutputSchema):
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
