"""The outbound pipeline's tables: each call, its attempts, the provider callbacks already seen, and
the dispatcher's lease. (Table names keep their campaign-era names: campaigns were the first user.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow


# A "Call now" that is still waiting or on the line (outcomes.OPEN_CALL_STATUSES, written out for the index).
OPEN_CALL_NOW = "purpose = 'call_now' AND status IN ('pending', 'queued', 'ringing', 'in_progress')"


class CampaignCall(SQLModel, table=True):
    """One outbound call to one customer, for a purpose: a campaign's call (`purpose` "campaign",
    `campaign_id` set), a one-off "Call now" ("call_now"), a booking reminder ("reminder",
    `reference` "booking:<id>"). Every attempt at it is a CampaignCallAttempt; its status moves
    only through outreach.states."""

    __tablename__ = "campaign_calls"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_calls_campaign_customer"),
        sa.Index("ix_campaign_calls_due", "status", "next_attempt_at"),
        sa.Index("ix_campaign_calls_campaign_status_due", "campaign_id", "status", "next_attempt_at"),
        sa.UniqueConstraint("request_key", name="uq_campaign_calls_request_key"),
        # analytics: a campaign's call ids from the index alone (its conversations, analytics/service.py)
        sa.Index("ix_campaign_calls_campaign_ids", "campaign_id", "id"),
        # "Call now" rings once: one open call_now per customer, whatever races (migration 10b)
        sa.Index("uq_campaign_calls_one_open_call_now", "customer_id", unique=True,
                 postgresql_where=sa.text(OPEN_CALL_NOW), sqlite_where=sa.text(OPEN_CALL_NOW)),
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
    # Added by the outreach work (migration 9b_outreach):
    purpose: str = Field(default="campaign", max_length=20)  # whose policy applies (outreach.purposes)
    reference: str | None = Field(default=None, max_length=64)  # what the call is about, e.g. "booking:12"
    request_key: str | None = Field(default=None, max_length=128)  # the requester's idempotency key
    claims: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))


# What analytics reads of an attempt (analytics/service.py): carried in its indexes on PostgreSQL, so a
# campaign's or a period's figures are index-only scans, never a visit to every row.
ANALYTICS_COLUMNS = ("outcome", "duration_seconds", "cost", "cost_unit", "campaign_call_id")


class CampaignCallAttempt(SQLModel, table=True):
    """One try at ringing a customer. Its idempotency key is what makes a retried job harmless:
    the key exists before the provider is asked, and a second job for it finds the row and stops."""

    __tablename__ = "campaign_call_attempts"
    __table_args__ = (
        sa.UniqueConstraint("campaign_call_id", "number", name="uq_campaign_call_attempts_call_number"),
        sa.Index("ix_campaign_call_attempts_status", "status"),
        # analytics: a campaign's attempts, or everyone's, over a period (analytics/service.py)
        sa.Index("ix_campaign_call_attempts_campaign_placed", "campaign_id", "placed_at",
                 postgresql_include=list(ANALYTICS_COLUMNS)),
        sa.Index("ix_campaign_call_attempts_placed_cover", "placed_at",
                 postgresql_include=["campaign_id", *ANALYTICS_COLUMNS]),
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
    # Added by the outreach work (migration 9b_outreach):
    error_kind: str | None = Field(default=None, max_length=20)  # telephony ErrorKind when placing failed
    # Added by the analytics rollup (migration 10e_analytics_rollup): the customer's wall clock when the call was
    # placed (their zone, else the business zone), stamped whenever `placed_at` is written (outreach/calls.py).
    local_weekday: int | None = Field(default=None)  # 0 = Monday
    local_hour: int | None = Field(default=None)  # 0-23


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
