"""Tables of outgoing webhooks: endpoints, the outbox, deliveries and their log."""

from __future__ import annotations

from datetime import datetime
import sqlalchemy as sa
from pydantic import BaseModel, Field as PydanticField
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import InputSchema, OutputSchema
from navaia_app.core.types import utc_column, utcnow

# What a business can subscribe to. `endpoint.test` is sent only by the "send test event" button.
EVENT_TYPES = ("booking.created", "booking.updated", "booking.cancelled", "ticket.created", "ticket.updated",
               "conversation.processed", "campaign.completed", "reminder.settled")
TEST_EVENT = "endpoint.test"
ENDPOINT_STATUSES = ("active", "paused")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(SQLModel, table=True):
    """A receiver that an admin registered: where to send which events, and the secret that signs them."""

    __tablename__ = "webhook_endpoints"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=300)
    events: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    secret: str = Field(max_length=100)  # whsec_<base64>; needed in clear to sign, shown once
    status: str = Field(default="active", max_length=10, index=True)
    paused_reason: str | None = Field(default=None, max_length=500)
    paused_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # One sender at a time per endpoint (what keeps deliveries in order): a lease that a killed
    # worker loses when it runs out.
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_success_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_failure_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class OutgoingEvent(SQLModel, table=True):
    """The outbox: one row per event, written in the same transaction as the change it reports."""

    __tablename__ = "outgoing_events"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=40, sa_column_kwargs={"unique": True})  # the `webhook-id`, stable
    event_type: str = Field(max_length=40, index=True)
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # the exact JSON body sent
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: pending until the receiver answers 2xx, failed after the last retry."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        sa.Index("ix_webhook_deliveries_queue", "endpoint_id", "status", "event_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE")
    event_id: int = Field(foreign_key="outgoing_events.id", index=True, ondelete="CASCADE")
    status: str = Field(default="pending", max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class WebhookDeliveryAttempt(SQLModel, table=True):
    """The delivery log: every request sent, what came back and how long it took."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (sa.Index("ix_webhook_delivery_attempts_endpoint_at", "endpoint_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_deliveries.id", index=True, ondelete="CASCADE")
    endpoint_id: int = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE")
    number: int = Field(default=1)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    ok: bool = Field(default=False)
    status_code: int | None = Field(default=None)
    latency_ms: int | None = Field(default=None)
    error: str | None = Field(default=None, max_length=300)
    response_excerpt: str = Field(default="", max_length=500)


# --- REST schemas ----------------------------------------------------------------------------------


class EndpointIn(InputSchema):
    url: str = PydanticField(max_length=2000, description="https:// (or http://) address of the receiver")
    events: list[str] = PydanticField(min_length=1, max_length=len(EVENT_TYPES),
                                      description=f"Any of: {', '.join(EVENT_TYPES)}")
    description: str = PydanticField(default="", max_length=300)


class EndpointOut(OutputSchema):
    id: int
    url: str
    description: str
    events: list[str]
    status: str
    paused_reason: str | None
    paused_at: datetime | None
    created_at: datetime
    last_success_at: datetime | None
    last_failure_at: datetime | None


class EndpointCreated(EndpointOut):
    secret: str = PydanticField(description="whsec_...: shown once, keep it to verify signatures")


class DeliveryOut(BaseModel):
    id: int
    event_id: int
    message_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


class AttemptOut(OutputSchema):
    id: int
    delivery_id: int
    number: int
    at: datetime
    ok: bool
    status_code: int | None
    latency_ms: int | None
    error: str | None
    response_excerpt: str
