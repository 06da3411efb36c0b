from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import InputSchema, OutputSchema
from navaia_app.core.types import utc_column, utcnow


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        # On PostgreSQL a trigram index serves "contains" searches; elsewhere a plain index.
        sa.Index("ix_customers_search_text", "search_text", postgresql_using="gin",
                 postgresql_ops={"search_text": "gin_trgm_ops"}),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, index=True)
    phone: str = Field(max_length=20, sa_column_kwargs={"unique": True})  # E.164
    email: str | None = Field(default=None, max_length=254, index=True)
    timezone: str | None = Field(default=None, max_length=64)
    do_not_call: bool = Field(default=False)
    sms_opt_out: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})  # STOP by SMS
    notes: str = Field(default="", max_length=2000)
    # Lower-cased name, email and phone digits in one column, so a search reads one column.
    search_text: str = Field(default="", max_length=400, sa_column_kwargs={"server_default": ""})
    erased_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))  # right to erasure
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class CustomerIn(InputSchema):
    """What a person or a client sends to create a customer (validated again in the service)."""
    name: str
    phone: str
    email: str | None = None
    timezone: str | None = None
    do_not_call: bool = False
    sms_opt_out: bool = False
    notes: str = ""


class CustomerPatch(InputSchema):
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    timezone: str | None = None
    do_not_call: bool | None = None
    sms_opt_out: bool | None = None
    notes: str | None = None


class CustomerOut(OutputSchema):
    id: int
    name: str
    phone: str
    email: str | None
    timezone: str | None
    do_not_call: bool
    sms_opt_out: bool
    notes: str
    created_at: datetime
    updated_at: datetime


def customer_search_text(name: str | None, email: str | None, phone: str | None) -> str:
    return " ".join(part for part in ((name or "").lower(), (email or "").lower(), (phone or "").lstrip("+")) if part)


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _fill_search_text(_mapper, _connection, target: Customer) -> None:
    target.search_text = customer_search_text(target.name, target.email, target.phone)
