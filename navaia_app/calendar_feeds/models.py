"""A user's private iCalendar feed of bookings."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow


class CalendarFeed(SQLModel, table=True):
    """A private iCalendar URL of one user: every booking, or those of one service. The token is kept
    as its SHA-256 only; revoking the feed makes its URL answer 404."""

    __tablename__ = "calendar_feeds"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    service: str | None = Field(default=None, max_length=120)  # None: every booking
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
