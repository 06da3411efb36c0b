"""The analytics rollup: per UTC day that is over, what the attempts placed that day add up to, so a long
period's figures are sums over a few rows per day instead of a pass over every attempt (analytics/rollup.py).

Each table's (campaign_key, day) index carries what the figures read (INCLUDE on PostgreSQL): a scope's
rows come from the index alone. `campaign_key` is the campaign's id, or 0 for every outbound attempt of the day (campaign or not). A day is
rolled up exactly when its `analytics_days` row exists; any later change to an attempt of that day (a late
outcome, a cost, a conversation's goal, a deleted customer) removes the day's rows, and the figures read
that day live until the job rolls it up again."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from navaia_app.core.types import utc_column, utcnow

EVERY_CALL = 0  # campaign_key of the rows that count every outbound attempt


class AnalyticsDay(SQLModel, table=True):
    """A UTC day whose attempts are rolled up (the rows below are complete for it)."""

    __tablename__ = "analytics_days"

    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    built_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class AnalyticsOutcome(SQLModel, table=True):
    """Attempts of a day by outcome (None: still under way) and cost unit: how many, how many reached their
    goal, their talk time and their carrier cost."""

    __tablename__ = "analytics_outcomes"
    __table_args__ = (sa.Index("ix_analytics_outcomes_key_day", "campaign_key", "day",
                               postgresql_include=["outcome", "cost_unit", "attempts", "goals", "priced",
                                                   "cost_sum"]),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_column=sa.Column(sa.Date, nullable=False, index=True))
    campaign_key: int = Field(default=EVERY_CALL)
    outcome: str | None = Field(default=None, max_length=16)
    cost_unit: str | None = Field(default=None, max_length=8)
    attempts: int = Field(default=0)
    goals: int = Field(default=0)
    durations: int = Field(default=0)  # attempts with a duration
    duration_sum: int = Field(default=0)
    priced: int = Field(default=0)  # attempts with a cost
    cost_sum: float | None = Field(default=None, sa_column=sa.Column(sa.Numeric(18, 5), nullable=True))


class AnalyticsSlot(SQLModel, table=True):
    """Attempts of a day by the customer's local weekday x hour when placed: dialled and answered."""

    __tablename__ = "analytics_slots"
    __table_args__ = (sa.Index("ix_analytics_slots_key_day", "campaign_key", "day",
                               postgresql_include=["weekday", "hour", "dialled", "answered"]),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_column=sa.Column(sa.Date, nullable=False, index=True))
    campaign_key: int = Field(default=EVERY_CALL)
    weekday: int
    hour: int
    dialled: int = Field(default=0)
    answered: int = Field(default=0)


class AnalyticsTalk(SQLModel, table=True):
    """Answered attempts of a day by their exact duration in seconds: a histogram that keeps the median and
    the 90th percentile exact."""

    __tablename__ = "analytics_talk"
    __table_args__ = (sa.Index("ix_analytics_talk_key_day", "campaign_key", "day", "seconds",
                               postgresql_include=["calls"]),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_column=sa.Column(sa.Date, nullable=False, index=True))
    campaign_key: int = Field(default=EVERY_CALL)
    seconds: int
    calls: int = Field(default=0)
