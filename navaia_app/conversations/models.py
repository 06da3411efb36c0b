from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow


class Conversation(SQLModel, table=True):
    """One voice-agent call, as ElevenLabs reported it."""

    __tablename__ = "conversations"

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
