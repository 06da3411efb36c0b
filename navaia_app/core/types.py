"""Column types shared by every model."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Annotated

import annotated_types
import sqlalchemy as sa

# Ids and counts are INTEGER columns, 32-bit on PostgreSQL (64-bit on SQLite): a larger number names no row
# and makes the database raise, so input that may reach a query is held to this range (422 at the door).
DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1
DbInt = Annotated[int, annotated_types.Interval(ge=DB_INT_MIN, le=DB_INT_MAX)]


def fits_db_int(value: int) -> bool:
    return DB_INT_MIN <= value <= DB_INT_MAX


def utcnow() -> datetime:
    """Now, in UTC: every "now" of the app (services, pages, jobs). Under APP_ENV=test only, TEST_CLOCK_FILE
    moves it on: the file holds a number of seconds added to the real clock (missing or unreadable: none), so a
    browser test can advance the app's and the worker's time together. Never honoured outside APP_ENV=test
    (and a production configuration that sets TEST_CLOCK_FILE refuses to start: Settings.check_production)."""
    now = datetime.now(timezone.utc)
    path = os.environ.get("TEST_CLOCK_FILE")
    if path and os.environ.get("APP_ENV") == "test":
        return now + _test_clock_offset(path)
    return now


_test_clock: dict[str, tuple[int, timedelta]] = {}


def _test_clock_offset(path: str) -> timedelta:
    """The offset TEST_CLOCK_FILE holds (re-read when the file changes)."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return timedelta(0)
    cached = _test_clock.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        with open(path, encoding="utf-8") as handle:
            offset = timedelta(seconds=float(handle.read().strip() or 0))
    except (OSError, ValueError):
        offset = timedelta(0)
    _test_clock[path] = (stamp, offset)
    return offset


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no offset, so we add it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utc_column(*, nullable: bool = False, index: bool = False, **kw) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index, **kw)
