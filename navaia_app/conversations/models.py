from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import OutputSchema
from navaia_app.core.types import utc_column, utcnow

# What a call led to. Every post-call transcription ends in one of the first three; review turns
# needs_review into one of the others.
OUTCOMES = ("booking_created", "ticket_created", "needs_review", "dismissed", "not_connected", "pending")
INTENTS = ("book_appointment", "raise_ticket")
EVENT_TYPES = ("post_call_transcription", "post_call_audio", "call_initiation_failure")
EVENT_STATUSES = ("pending", "processed", "failed")


class Conversation(SQLModel, table=True):
    """One voice-agent call, as ElevenLabs reported it."""

    __tablename__ = "conversations"
    __table_args__ = (
        # analytics: "goal reached" of the calls in scope, read from a small index
        sa.Index("ix_conversations_goal_call", "campaign_call_id", postgresql_where=sa.text("goal_reached"),
                 sqlite_where=sa.text("goal_reached")),
        # analytics: a period's conversation counts and agent cost from the index alone (analytics/service.py)
        sa.Index("ix_conversations_created_cover", "created_at",
                 postgresql_include=["goal_reached", "handed_off_at", "evaluation_failed", "cost"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=128, sa_column_kwargs={"unique": True})
    agent_id: str | None = Field(default=None, max_length=128)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True, ondelete="SET NULL")
    intent: str | None = Field(default=None, max_length=60)
    status: str = Field(default="done", max_length=32)
    summary: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    transcript: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    data_collection: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    duration_seconds: int | None = Field(default=None)
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    ticket_id: int | None = Field(default=None)
    booking_id: int | None = Field(default=None)
    needs_review: bool = Field(default=False, index=True)
    review_reason: str | None = Field(default=None, max_length=500)
    audio_path: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    # Added by the call-automation release (migration 4a_call_automation).
    outcome: str = Field(default="pending", max_length=20, index=True)
    title: str = Field(default="", max_length=200)
    direction: str | None = Field(default=None, max_length=10)  # inbound | outbound | browser
    caller_phone: str | None = Field(default=None, max_length=20)  # E.164, when the call came by phone
    call_successful: str | None = Field(default=None, max_length=20)
    campaign_call_id: int | None = Field(default=None, index=True)
    reviewed_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    reviewed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Added by the call-analytics release (migration 8a_call_analytics).
    goal_reached: bool = Field(default=False, index=True)  # see service.goal_reached: what "the call worked" means
    evaluation: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    evaluation_failed: bool = Field(default=False, index=True)  # at least one evaluation criterion answered "failure"
    cost: int | None = Field(default=None)  # what ElevenLabs charged (metadata.cost, in credits)
    handed_off_to: str | None = Field(default=None, max_length=20)  # E.164 the agent transferred the call to
    handed_off_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    termination_reason: str | None = Field(default=None, max_length=200)


class ConversationEvaluation(SQLModel, table=True):
    """One evaluation criterion's result on one call (ElevenLabs analysis.evaluation_criteria_results), kept
    as rows so "results over time" is an indexed aggregate, not a scan of JSON."""

    __tablename__ = "conversation_evaluations"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "criterion", name="uq_conversation_evaluations_key"),
        sa.Index("ix_conversation_evaluations_at", "occurred_at", "criterion", "result"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id", ondelete="CASCADE")
    criterion: str = Field(max_length=80)
    result: str = Field(max_length=12)  # success | failure | unknown
    rationale: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    occurred_at: datetime = Field(sa_column=utc_column())  # the call's start (or when it was recorded)


class WebhookEvent(SQLModel, table=True):
    """The inbox: every accepted webhook, stored before it is answered, processed later."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.UniqueConstraint("source", "event_type", "external_id", name="uq_webhook_events_key"),
        sa.Index("ix_webhook_events_status_received", "status", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)
    event_type: str = Field(max_length=60)
    external_id: str = Field(max_length=128)
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default="pending", max_length=12)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=2000)
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    processed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Added by the call-automation release (migration 4a_call_automation).
    last_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    media_path: str | None = Field(default=None, max_length=300)  # post_call_audio: the stored MP3
    conversation_id: int | None = Field(default=None, index=True)


class ConversationOut(OutputSchema):
    """A voice-agent call as the REST API shows it."""
    id: int
    external_id: str
    agent_id: str | None
    customer_id: int | None
    intent: str | None
    status: str
    outcome: str
    title: str
    summary: str
    transcript: list[dict[str, Any]]
    data_collection: dict[str, Any]
    duration_seconds: int | None
    started_at: datetime | None
    direction: str | None
    caller_phone: str | None
    ticket_id: int | None
    booking_id: int | None
    campaign_call_id: int | None
    needs_review: bool
    review_reason: str | None
    has_audio: bool = False
    call_successful: str | None = None
    goal_reached: bool = False
    evaluation: dict[str, Any] = {}
    evaluation_failed: bool = False
    cost: int | None = None
    handed_off_to: str | None = None
    handed_off_at: datetime | None = None
    termination_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class SyncRun(SQLModel, table=True):
    """One run of the backstop that fetches conversations whose post-call webhook never came."""

    __tablename__ = "elevenlabs_sync_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    status: str = Field(default="running", max_length=12)  # running | ok | failed | skipped
    listed: int = Field(default=0)  # finished conversations ElevenLabs listed for the window
    missing: int = Field(default=0)  # of those, without a post_call_transcription in the inbox
    recovered: int = Field(default=0)  # stored into the inbox by this run
    recovered_ids: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    error: str | None = Field(default=None, max_length=500)
