"""Helpers for the list filters every service offers (tickets, bookings, customers, campaigns)."""

from __future__ import annotations

from collections.abc import Iterable

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
