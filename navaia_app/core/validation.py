"""Field rules shared by several features: e-mail, phone (E.164), time zone."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

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
