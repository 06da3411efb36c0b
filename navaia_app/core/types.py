"""Column types shared by every model."""

from __future__ import annotations

from datetime import datetime, timezone
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
    return datetime.now(timezone.utc)


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
