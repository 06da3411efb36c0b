from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow

TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")
SOURCES = ("manual", "ai_call", "api")


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open','in_progress','resolved','closed')", name="ck_tickets_status"),
        sa.CheckConstraint("priority IN ('low','medium','high','urgent')", name="ck_tickets_priority"),
        sa.CheckConstraint("source IN ('manual','ai_call','api')", name="ck_tickets_source"),
        sa.Index("ix_tickets_status_created", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10000)
    status: str = Field(default="open", max_length=16)
    priority: str = Field(default="medium", max_length=8)
    category: str = Field(default="", max_length=60)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True, ondelete="SET NULL")
    assignee_id: int | None = Field(default=None, foreign_key="users.id", index=True, ondelete="SET NULL")
    source: str = Field(default="manual", max_length=8)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
