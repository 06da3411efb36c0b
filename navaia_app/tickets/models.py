from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import InputSchema, OutputSchema
from navaia_app.core.types import DbInt, utc_column, utcnow

TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")
SOURCES = ("manual", "ai_call", "api")

TicketStatus = Literal["open", "in_progress", "resolved", "closed"]
TicketPriority = Literal["low", "medium", "high", "urgent"]
Source = Literal["manual", "ai_call", "api"]


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open','in_progress','resolved','closed')", name="ck_tickets_status"),
        sa.CheckConstraint("priority IN ('low','medium','high','urgent')", name="ck_tickets_priority"),
        sa.CheckConstraint("source IN ('manual','ai_call','api')", name="ck_tickets_source"),
        sa.Index("ix_tickets_status_created", "status", "created_at"),
        # The filters people use most, then the status (the page's tabs, counted from the index alone),
        # then the default order (newest first).
        sa.Index("ix_tickets_priority_status_created", "priority", "status", "created_at"),
        sa.Index("ix_tickets_source_status_created", "source", "status", "created_at"),
        sa.Index("ix_tickets_assignee_status_created", "assignee_id", "status", "created_at"),
        sa.Index("ix_tickets_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10000)
    status: str = Field(default="open", max_length=16)
    priority: str = Field(default="medium", max_length=8)
    category: str = Field(default="", max_length=60)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True, ondelete="SET NULL")
    assignee_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")  # ix_..._created
    source: str = Field(default="manual", max_length=8)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # What a search reads: one lower-case column, kept by the database, so a search through every ticket
    # compares plain text instead of case-folding two columns per row (a third of the time on PostgreSQL).
    search_text: str | None = Field(default=None, sa_column=sa.Column(
        sa.Text, sa.Computed("lower(title || ' ' || description)", persisted=True), nullable=True))


# --- REST schemas (validated again in the service) --------------------------------------------------


class TicketIn(InputSchema):
    title: str
    description: str = ""
    priority: TicketPriority = "medium"
    category: str = ""
    customer_id: DbInt | None = None
    conversation_id: DbInt | None = None
    assignee_id: DbInt | None = None
    status: TicketStatus = "open"
    source: Source = "api"


class TicketPatch(InputSchema):
    """Only the fields given change; `status` moves through the workflow (open -> in_progress -> ...)."""
    title: str | None = None
    description: str | None = None
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    category: str | None = None
    customer_id: DbInt | None = None
    assignee_id: DbInt | None = None


class TicketOut(OutputSchema):
    id: int
    title: str
    description: str
    status: str
    priority: str
    category: str
    customer_id: int | None
    assignee_id: int | None
    source: str
    conversation_id: int | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class CommentIn(InputSchema):
    body: str


class ActivityOut(BaseModel):
    id: int
    kind: str
    actor_id: int | None
    actor_name: str | None
    from_value: str | None
    to_value: str | None
    body: str
    created_at: datetime
