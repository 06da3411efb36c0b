"""Booking reminders: the reminder rows (one per booking and channel), the reminder settings (one row),
and the text messages sent and received; the REST schemas beside them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import InputSchema, OutputSchema
from navaia_app.core.types import utc_column, utcnow

CHANNELS = ("call", "sms")
Channel = Literal["call", "sms"]
# planned: waits for due_at; held: a fallback that waits for the channel before it; sending: claimed, its
# idempotency key committed, the provider being asked; sent: the provider took it; answered: the customer
# answered it (result says how); unreachable/failed: it reached nobody; skipped: never sent (detail says
# why); cancelled: no longer wanted (the booking moved, was cancelled, or the customer already answered).
REMINDER_STATUSES = ("planned", "held", "sending", "sent", "answered", "unreachable", "failed", "skipped",
                     "cancelled")
OPEN_STATUSES = ("planned", "held")  # not yet handed to a provider: a re-plan may replace them
ACTIVE_STATUSES = ("sending", "sent")  # with a provider now
# What came of a reminder: the customer's answer, or why it reached nobody.
RESULTS = ("confirmed", "cancelled", "rescheduled", "no_decision", "delivered", "no_answer", "busy", "voicemail",
           "failed", "undelivered")
UNREACHABLE_RESULTS = ("no_answer", "busy", "voicemail", "failed", "undelivered")
SMS_TEMPLATE = ("Hi {customer_name}, this is {business_name}: a reminder of your {service} on {start_time}. "
                "Reply YES to confirm or NO to cancel.")
CALL_OPENING = ("Hello {customer_name}, this is {business_name} calling to remind you of your {service} on "
                "{start_time}. Can you still make it?")


class BookingReminder(SQLModel, table=True):
    __tablename__ = "booking_reminders"
    __table_args__ = (
        sa.CheckConstraint("channel IN ('call','sms')", name="ck_booking_reminders_channel"),
        sa.CheckConstraint("status IN ('planned','held','sending','sent','answered','unreachable','failed',"
                           "'skipped','cancelled')", name="ck_booking_reminders_status"),
        sa.Index("ix_booking_reminders_due", "status", "due_at"),
        sa.Index("ix_booking_reminders_booking", "booking_id", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="bookings.id", ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    channel: str = Field(max_length=4)
    position: int = Field(default=0)  # the channel's place in the order (0 first)
    status: str = Field(default="planned", max_length=12)
    due_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    booking_starts_at: datetime = Field(sa_column=utc_column())  # the start this reminder was planned for
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    result: str | None = Field(default=None, max_length=20)
    detail: str | None = Field(default=None, max_length=300)
    tries: int = Field(default=0)
    # Committed before the provider is asked: a retried job finds it and never sends twice.
    idempotency_key: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    provider: str | None = Field(default=None, max_length=20)
    provider_ref: str | None = Field(default=None, max_length=64, index=True)  # Twilio MessageSid, a call's id
    outbound_call_id: int | None = Field(default=None, index=True)  # the outbound pipeline's call row
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ReminderSettings(SQLModel, table=True):
    """One row (id 1): how the business reminds its customers."""

    __tablename__ = "reminder_settings"

    id: int | None = Field(default=None, primary_key=True)
    enabled: bool = Field(default=False)
    call_lead_minutes: int | None = Field(default=24 * 60)
    sms_lead_minutes: int | None = Field(default=120)
    sms_fallback: bool = Field(default=True)  # the later channels wait for the earlier one to reach nobody
    channel_order: str = Field(default="call,sms", max_length=20)
    window_start: str = Field(default="09:00", max_length=5)  # never earlier, in the customer's own zone
    window_end: str = Field(default="20:00", max_length=5)  # never later
    excluded_services: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    business_name: str = Field(default="", max_length=120)
    sms_template: str = Field(default=SMS_TEMPLATE, max_length=600)
    call_opening: str = Field(default=CALL_OPENING, max_length=600)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class SmsMessage(SQLModel, table=True):
    """A text sent or received. Inbound rows are unique on the provider's MessageSid (a retried webhook
    changes nothing)."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        sa.CheckConstraint("direction IN ('in','out')", name="ck_sms_messages_direction"),
        sa.Index("ix_sms_messages_customer", "customer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)
    provider_sid: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    customer_id: int | None = Field(default=None, foreign_key="customers.id", ondelete="SET NULL")
    booking_id: int | None = Field(default=None, foreign_key="bookings.id", ondelete="SET NULL")
    reminder_id: int | None = Field(default=None, foreign_key="booking_reminders.id", ondelete="SET NULL")
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", ondelete="SET NULL")
    phone: str = Field(max_length=20)  # the customer's side, E.164
    body: str = Field(default="", max_length=1600)
    status: str = Field(default="", max_length=20)  # out: queued, sent, delivered, failed...; in: received
    action: str | None = Field(default=None, max_length=20)  # in: confirmed, cancelled, stop, start, ticket...
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


# --- REST schemas ------------------------------------------------------------------------------------


class ReminderOut(OutputSchema):
    id: int
    booking_id: int
    channel: Channel
    status: str
    due_at: datetime | None
    sent_at: datetime | None
    answered_at: datetime | None
    result: str | None
    detail: str | None
    conversation_id: int | None


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    total: int


class ReminderSettingsOut(OutputSchema):
    enabled: bool
    call_lead_minutes: int | None
    sms_lead_minutes: int | None
    sms_fallback: bool
    channel_order: list[Channel]
    window_start: str
    window_end: str
    excluded_services: list[str]
    business_name: str
    sms_template: str
    call_opening: str
    updated_at: datetime


class ReminderSettingsIn(InputSchema):
    """Only the fields given change."""
    enabled: bool | None = None
    call_lead_minutes: int | None = PydanticField(default=None, ge=0, le=10_080,
                                                  description="0–10,080; null turns reminder calls off")
    sms_lead_minutes: int | None = PydanticField(default=None, ge=0, le=10_080,
                                                 description="0–10,080; null turns reminder texts off")
    sms_fallback: bool | None = None
    channel_order: list[Channel] | None = PydanticField(default=None, min_length=1, max_length=2)
    window_start: str | None = PydanticField(default=None, description="HH:MM, the customer's local time")
    window_end: str | None = PydanticField(default=None, description="HH:MM, the customer's local time")
    excluded_services: list[str] | None = PydanticField(default=None, max_length=200)
    business_name: str | None = PydanticField(default=None, max_length=120)
    sms_template: str | None = PydanticField(default=None, max_length=600)
    call_opening: str | None = PydanticField(default=None, max_length=600)
