"""Who may be called or texted, and when: the one eligibility rule of every outbound call and text.

The campaign audience snapshot, the dispatcher (again, just before it dials: a customer may have
asked not to be called since), "Call now" and the reminders all ask `check_eligibility`. It
looks at, in order:

1. consent: a call respects `do_not_call`; a text respects the customer's SMS opt-out (the
   attribute `sms_opt_out` when the contact has one: the reminders work adds it and its STOP/START
   replies; until then nobody is opted out of texts);
2. the number: a valid E.164 number (phonenumbers), in a country ALLOWED_CALL_COUNTRIES lists (unset:
   every country, outside production);
3. the time: the calling window, if the call has one, in the customer's zone (or the business zone).

The answer says whether to go now, later (and when), or never (and why, in words a person reads
on the call's row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import phonenumbers

from navaia_app.core.settings import get_settings
from navaia_app.core.zones import zone_named


class Channel(StrEnum):
    """How a customer is reached: a call or a text."""
    CALL = "call"
    SMS = "sms"


@dataclass(frozen=True)
class Eligibility:
    """`verdict`: "now" (go), "later" (not before `at`), "never" (`code` and `reason` say why)."""

    verdict: Literal["now", "later", "never"]
    at: datetime | None = None  # "now": the instant asked about; "later": when the window opens
    code: str | None = None  # do_not_call | sms_opt_out | invalid_number | country_not_allowed | no_calling_day...
    reason: str | None = None  # what the call's row shows

    @property
    def ok(self) -> bool:
        """The call may ring now."""
        return self.verdict == "now"


def _never(code: str, reason: str) -> Eligibility:
    return Eligibility("never", code=code, reason=reason)


def customer_zone(customer_timezone: str | None) -> str:
    """The name of the zone a customer's calling window is read in: theirs, else BUSINESS_TIMEZONE
    (core.zones decides)."""
    return zone_named(customer_timezone).key


def phone_country(phone: str | None) -> str | None:
    """The ISO country of a valid E.164 number (None: not a valid E.164 number)."""
    if not phone or not phone.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    # is_valid_number(parsed) is is_valid_number_for_region(parsed, region_code_for_number(parsed)): the
    # region is looked up once (the costly part of a number's verdict).
    region = phonenumbers.region_code_for_number(parsed)
    if not region or not phonenumbers.is_valid_number_for_region(parsed, region) or \
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != phone:
        return None
    return region


def check_eligibility(*, contact: Any, channel: Channel | str = Channel.CALL, now: datetime, window: Any = None,
                      openings: dict[str, datetime | None] | None = None,
                      numbers: dict[str, str | None] | None = None) -> Eligibility:
    """May `contact` (anything with `phone`, `do_not_call`, `timezone`, and optionally `sms_opt_out`;
    a Customer row will do) be reached on `channel` at `now`?

    `window` (a campaigns.schedule.CallingWindow or anything with `next_opening(instant, zone)`) limits
    the time, read in the contact's zone; `openings` caches its answer by zone across many contacts
    asked about at the same `now` (the audience snapshot); `numbers` caches each number's verdict (its
    country, or None when it cannot be dialled) across channels and contacts asked about together (planning
    many reminders): phonenumbers parses a number once. Never raises for bad data: a contact that
    cannot be reached gets "never" with the reason; raises ValueError for an unknown channel."""
    channel = Channel(channel)
    if channel is Channel.CALL and getattr(contact, "do_not_call", False):
        return _never("do_not_call", "do not call")
    if channel is Channel.SMS and getattr(contact, "sms_opt_out", False):  # hook: the reminders work adds it
        return _never("sms_opt_out", "opted out of text messages")
    phone = getattr(contact, "phone", None)
    if numbers is None:
        country = phone_country(phone)
    elif phone in numbers:
        country = numbers[phone]
    else:
        country = numbers[phone] = phone_country(phone)
    if country is None:
        return _never("invalid_number", "invalid number")
    allowed = get_settings().call_countries
    if allowed is not None and country not in allowed:
        return _never("country_not_allowed", f"country not allowed ({country} is not in ALLOWED_CALL_COUNTRIES)")
    if window is None:
        return Eligibility("now", at=now)
    zone = customer_zone(getattr(contact, "timezone", None))
    if openings is not None and zone in openings:
        at = openings[zone]
    else:
        at = window.next_opening(now, zone)
        if openings is not None:
            openings[zone] = at
    if at is None:
        return _never("no_calling_day_in_the_window", "no calling day in the window")
    return Eligibility("now" if at <= now else "later", at=at)
