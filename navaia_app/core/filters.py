"""Helpers for the list filters every service offers (tickets, bookings, customers, campaigns)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from navaia_app.core.errors import ValidationFailed


def like_escape(text: str) -> str:
    """What a person types is searched literally: % and _ are not wildcards for them (use ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def any_of(value: str | Iterable[str] | None, allowed: tuple[str, ...], field: str) -> list[str] | None:
    """A filter given as one value or several; None when not filtering; a clear error for an unknown one."""
    if value is None or value == "":
        return None
    values = [value] if isinstance(value, str) else list(value)
    values = [v for v in values if v != ""]
    if not values:
        return None
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationFailed(f"Unknown {field} {unknown[0]!r} (use one of: {', '.join(allowed)}).", field=field)
    return values


def one_of(column, value: str | Iterable[str] | None, allowed: tuple[str, ...], field: str) -> list:
    """`[column IN values]` for a filter given as one value or several (see any_of); `[]` when not filtering."""
    values = any_of(value, allowed, field)
    return [] if values is None else [column.in_(values)]


def equal_to(*pairs: tuple) -> list:
    """`column == value` for each (column, value) pair whose value is given (not None)."""
    return [column == value for column, value in pairs if value is not None]


def time_range(column, start: tuple[str, datetime | None], end: tuple[str, datetime | None]) -> list:
    """`start <= column < end` for the bounds given, each a (field name, aware datetime or None) pair.

    Raises ValidationFailed (naming the field) for a bound without a time zone: comparing it with stored UTC
    times would silently shift the range."""
    for field, bound in (start, end):
        if bound is not None and (not isinstance(bound, datetime) or bound.tzinfo is None):
            raise ValidationFailed("Give the time with a time zone.", field=field)
    return [*([column >= start[1]] if start[1] is not None else []),
            *([column < end[1]] if end[1] is not None else [])]


def page_bounds(sort: str, sortable, limit: int, offset: int, max_page: int) -> tuple[int, int]:
    """The (limit, offset) of a list request, clamped (1..max_page rows, from 0 on).

    Raises ValidationFailed (field 'sort') when `sort` is not one of `sortable`."""
    if sort not in sortable:
        raise ValidationFailed(f"Cannot sort by '{sort}' (use one of: {', '.join(sortable)}).", field="sort")
    return max(1, min(int(limit), max_page)), max(0, int(offset))
