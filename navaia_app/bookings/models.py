from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow

BOOKING_STATUSES = ("pending", "confirmed", "cancelled", "completed", "no_show")


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending','confirmed','cancelled','completed','no_show')", name="ck_bookings_status"
        ),
        sa.CheckConstraint("source IN ('manual','ai_call','api')", name="ck_bookings_source"),
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="ck_bookings_duration"),
        sa.Index("ix_bookings_resource_starts", "resource", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    service: str = Field(max_length=120)
    starts_at: datetime = Field(sa_column=utc_column(index=True))
    ends_at: datetime = Field(sa_column=utc_column())
    duration_minutes: int = Field(default=30)
    status: str = Field(default="pending", max_length=12)
    notes: str = Field(default="", max_length=4000)
    source: str = Field(default="manual", max_length=8)
    resource: str = Field(default="business", max_length=60)  # who or what is booked: the business, a person, a room
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
