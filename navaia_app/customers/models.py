from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, index=True)
    phone: str = Field(max_length=20, sa_column_kwargs={"unique": True})  # E.164
    email: str | None = Field(default=None, max_length=254, index=True)
    timezone: str | None = Field(default=None, max_length=64)
    do_not_call: bool = Field(default=False)
    notes: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class CustomerIn(BaseModel):
    """What a person or a client sends to create a customer (validated again in the service)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str
    phone: str
    email: str | None = None
    timezone: str | None = None
    do_not_call: bool = False
    notes: str = ""


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    timezone: str | None = None
    do_not_call: bool | None = None
    notes: str | None = None


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    phone: str
    email: str | None
    timezone: str | None
    do_not_call: bool
    notes: str
    created_at: datetime
    updated_at: datetime
