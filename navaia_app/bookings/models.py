from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import InputSchema, OutputSchema
from navaia_app.core.types import DbInt, utc_column, utcnow

BOOKING_STATUSES = ("pending", "confirmed", "cancelled", "completed", "no_show")
BookingStatus = Literal["pending", "confirmed", "cancelled", "completed", "no_show"]
Source = Literal["manual", "ai_call", "api"]


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending','confirmed','cancelled','completed','no_show')", name="ck_bookings_status"
        ),
        sa.CheckConstraint("source IN ('manual','ai_call','api')", name="ck_bookings_source"),
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="ck_bookings_duration"),
        sa.Index("ix_bookings_resource_starts", "resource", "starts_at"),
        sa.Index("ix_bookings_status_starts", "status", "starts_at"),
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


# --- REST schemas (validated again in the service) --------------------------------------------------


class BookingIn(InputSchema):
    customer_id: DbInt
    service: str
    starts_at: AwareDatetime
    duration_minutes: int | None = None  # default: BOOKING_SLOT_MINUTES
    status: Literal["pending", "confirmed"] = "pending"
    notes: str = ""
    source: Source = "api"
    conversation_id: DbInt | None = None
    resource: str = "business"


class BookingPatch(InputSchema):
    """Only the fields given change. A new `starts_at`/`duration_minutes`/`resource` reschedules (same rules as a
    new booking); `status` moves through the workflow (pending -> confirmed -> completed | no_show, cancelled)."""
    service: str | None = None
    starts_at: AwareDatetime | None = None
    duration_minutes: int | None = None
    status: BookingStatus | None = None
    notes: str | None = None
    customer_id: DbInt | None = None
    resource: str | None = None


class BookingOut(OutputSchema):
    id: int
    customer_id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    status: str
    notes: str
    source: str
    conversation_id: int | None
    resource: str
    created_at: datetime
    updated_at: datetime


class Availability(BaseModel):
    slots: list[datetime]
    slot_minutes: int
    duration_minutes: int
    timezone: str
    business_hours: str
    resource: str
