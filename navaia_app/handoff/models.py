"""Hand-off numbers: where the voice agent transfers a caller who asks for a person, and when each is staffed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from navaia_app.core.schemas import InputSchema
from navaia_app.core.types import utc_column, utcnow


class HandoffNumber(SQLModel, table=True):
    """A line staffed by people during its hours (wall-clock times in the business zone)."""

    __tablename__ = "handoff_numbers"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(default="", max_length=80)
    phone: str = Field(max_length=20)  # E.164
    days: str = Field(default="mon,tue,wed,thu,fri", max_length=40)
    start: str = Field(default="09:00", max_length=5)
    end: str = Field(default="17:00", max_length=5)
    position: int = Field(default=0)  # the first staffed one in this order is chosen
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class HandoffNumberIn(InputSchema):
    label: str = PydanticField("", max_length=80)
    phone: str = PydanticField(max_length=40, description="Any format; stored in E.164")
    days: list[str] = PydanticField(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], max_length=7)
    start: str = PydanticField("09:00", max_length=5, description="HH:MM, business time zone")
    end: str = PydanticField("17:00", max_length=5, description="HH:MM; not after start: crosses midnight")


class HandoffSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    numbers: list[HandoffNumberIn] = PydanticField(default_factory=list, max_length=20)


class HandoffNumberOut(BaseModel):
    id: int
    label: str
    phone: str
    days: list[str]
    start: str
    end: str


class HandoffSettingsOut(BaseModel):
    timezone: str
    numbers: list[HandoffNumberOut]
    staffed_now: HandoffNumberOut | None
    next_staffed_at: datetime | None
