"""Field rules shared by several features: e-mail, phone (E.164), time zone."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel

from navaia_app.core.errors import ValidationFailed
from navaia_app.core.settings import get_settings


def normalize_email(value: str, *, field: str = "email") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed("Email is required.", field=field)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"Enter a valid email address ({exc}).", field=field) from exc
    return result.normalized.lower()


def normalize_phone(value: str, *, field: str = "phone", region: str | None = None) -> str:
    """Parse a phone number as a person writes it and return it in E.164."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationFailed("Phone number is required.", field=field)
    region = region or get_settings().default_phone_region
    try:
        parsed = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"'{raw}' is not a phone number.", field=field) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(
            f"'{raw}' is not a valid phone number (use international format, e.g. +14155550123).", field=field
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(value: str | None) -> str | None:
    try:
        return normalize_phone(value or "")
    except ValidationFailed:
        return None


@lru_cache
def timezone_names() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))) + ["UTC"]


@lru_cache
def _zones_by_lower_name() -> dict[str, str]:
    # available_timezones() walks the tz database on every call: read it once per process.
    return {name.lower(): name for name in available_timezones() | {"UTC"}}


def validate_timezone(value: str | None, *, field: str = "timezone") -> str | None:
    """An IANA zone name in its canonical spelling (`europe/paris` -> `Europe/Paris`), or None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    canonical = _zones_by_lower_name().get(value.lower())
    if canonical is None:
        raise ValidationFailed(f"'{value}' is not a known time zone (use an IANA name like Europe/Paris).", field=field)
    return canonical


def display_phone(e164: str) -> str:
    """An E.164 number as people read it (+1 212-555-0147)."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def clean_text(value: Any, limit: int, errors: dict[str, str], *, field: str, label: str,
               required: bool = False) -> str:
    """`value` as trimmed text (None is ""). Adds "<label> is required." (when `required` and empty) or
    "<label> is too long (N characters at most)." to `errors[field]`; never raises, so a form shows every error."""
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not text:
        errors[field] = f"{label} is required."
    elif len(text) > limit:
        errors[field] = f"{label} is too long ({limit:,} characters at most)."
    return text


def raise_first(errors: dict[str, str]) -> None:
    """Raises ValidationFailed for the first field in `errors` (carrying all of them); nothing when empty."""
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(errors[first], field=first, errors=errors)


def patch_changes(patch: BaseModel | dict[str, Any], schema: type[BaseModel]) -> dict[str, Any]:
    """The fields a patch sets: a `schema` instance's set fields, or a plain dict's keys.

    Raises ValidationFailed (naming the field) for a key `schema` does not have."""
    changes = patch.model_dump(exclude_unset=True) if isinstance(patch, schema) else dict(patch)
    unknown = sorted(set(changes) - set(schema.model_fields))
    if unknown:
        raise ValidationFailed(f"Cannot change {unknown[0]!r}.", field=unknown[0])
    return changes
