"""Hand-off to a human: which numbers are staffed when, and what happens when a caller asks for a person.

Staffed hours are wall-clock times in the business zone (BUSINESS_TIMEZONE), read through the same
CallingWindow as campaign calling windows, so a DST change moves nothing on the wall clock. Inside a
number's hours the agent is told to transfer to it; outside every number's hours a "call back" ticket
is raised with the caller, the summary so far and the reason, and the caller hears when someone will
call back: the next moment a number is staffed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from navaia_app.audit import service as audit
from navaia_app.auth import permissions
from navaia_app.campaigns.models import WEEKDAYS
from navaia_app.campaigns.schedule import CallingWindow
from navaia_app.core.errors import ValidationFailed
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger, mask_phone
from navaia_app.core.types import utcnow
from navaia_app.core.validation import display_phone, try_normalize_phone
from navaia_app.core.zones import business_zone
from navaia_app.customers.models import Customer
from navaia_app.handoff.models import HandoffNumber, HandoffNumberIn, HandoffNumberOut, HandoffSettingsOut

log = get_logger(__name__)

MAX_NUMBERS = 20
CALL_BACK_CATEGORY = "call_back"  # the ticket category of a hand-off outside staffed hours
HHMM_LENGTH = 5


def window(number: HandoffNumber) -> CallingWindow:
    """When a hand-off number is staffed, as a calling window in the business time zone."""
    return CallingWindow.of(number.start, number.end, number.days)


def list_numbers(*, session: Session) -> list[HandoffNumber]:
    """Every hand-off number, in the order they are tried."""
    return list(session.exec(select(HandoffNumber).order_by(HandoffNumber.position, HandoffNumber.id)))


def number_out(number: HandoffNumber) -> HandoffNumberOut:
    """A hand-off number as the REST API and the Settings card show it."""
    return HandoffNumberOut(id=number.id, label=number.label, phone=number.phone,
                            days=[d for d in number.days.split(",") if d], start=number.start, end=number.end)


def _clean(index: int, given: HandoffNumberIn, errors: dict[str, str]) -> HandoffNumber | None:
    prefix = f"numbers.{index}"
    phone = try_normalize_phone(given.phone)
    if phone is None:
        errors[f"{prefix}.phone"] = f"'{given.phone[:40]}' is not a valid phone number."
    days = []
    for day in given.days:
        name = day.strip().lower()[:3]
        if name not in WEEKDAYS:
            errors[f"{prefix}.days"] = f"Unknown day '{day[:12]}' (use mon, tue, wed, thu, fri, sat, sun)."
        elif name not in days:
            days.append(name)
    if not days and f"{prefix}.days" not in errors:
        errors[f"{prefix}.days"] = "Pick at least one day."
    for key, value in (("start", given.start), ("end", given.end)):
        try:
            hours, minutes = value.split(":")
            ok = len(value) == HHMM_LENGTH and 0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59
        except ValueError:
            ok = False
        if not ok:
            errors[f"{prefix}.{key}"] = f"{key} must be a time HH:MM (24-hour clock)."
    if errors:
        return None
    ordered = ",".join(d for d in WEEKDAYS if d in days)
    return HandoffNumber(label=given.label.strip()[:80], phone=phone, days=ordered, start=given.start, end=given.end,
                         position=index)


def replace_numbers(*, session: Session, actor, numbers: list[HandoffNumberIn]) -> list[HandoffNumber]:
    """The hand-off numbers become exactly `numbers` (in this order of preference); all or nothing."""
    permissions.require(actor, "change_settings")
    if len(numbers) > MAX_NUMBERS:
        raise ValidationFailed(f"At most {MAX_NUMBERS} hand-off numbers.", field="numbers")
    errors: dict[str, str] = {}
    cleaned = [_clean(i, given, errors) for i, given in enumerate(numbers)]
    if errors:
        raise ValidationFailed("Some hand-off numbers are not valid: " + " ".join(errors.values()), errors=errors)
    for old in list_numbers(session=session):
        session.delete(old)
    session.flush()
    now = utcnow()
    for number in cleaned:
        number.created_at = number.updated_at = now
        session.add(number)
    session.flush()
    audit.record(session, action="settings.handoff_changed", actor=actor, target_type="settings",
                 target_id="handoff", detail={"numbers": len(cleaned)})
    bump(session, "settings")
    log.info("handoff.numbers_changed", numbers=len(cleaned), user_id=getattr(actor, "id", None))
    return cleaned


def staffed_now(*, session: Session, now: datetime | None = None) -> HandoffNumber | None:
    """The first number (in order of preference) whose hours include `now`."""
    now = now or utcnow()
    zone = business_zone().key
    return next((n for n in list_numbers(session=session) if window(n).contains(now, zone)), None)


def next_staffed(*, session: Session, now: datetime | None = None) -> tuple[datetime, HandoffNumber] | None:
    """When a number is next staffed (now, if one is), and which; None when no number ever is."""
    now = now or utcnow()
    zone = business_zone().key
    best: tuple[datetime, HandoffNumber] | None = None
    for number in list_numbers(session=session):
        opening = window(number).next_opening(now, zone)
        if opening is not None and (best is None or opening < best[0]):
            best = (opening, number)
    return best


def settings_view(*, session: Session, now: datetime | None = None) -> HandoffSettingsOut:
    """The hand-off settings as shown: the business zone, every number, who is staffed now and when someone next
    is.
    """
    now = now or utcnow()
    staffed = staffed_now(session=session, now=now)
    upcoming = next_staffed(session=session, now=now)
    return HandoffSettingsOut(timezone=business_zone().key,
                              numbers=[number_out(n) for n in list_numbers(session=session)],
                              staffed_now=number_out(staffed) if staffed else None,
                              next_staffed_at=upcoming[0] if upcoming else None)


@dataclass
class HandoffDecision:
    """Transfer now to `number`, or a call-back `ticket_id` with when someone will call (`callback_at`)."""

    number: HandoffNumber | None = None
    ticket_id: int | None = None
    callback_at: datetime | None = None
    callback_phone: str | None = None
    repeated: bool = False  # the same call asked before: the ticket it got then


def _existing_call_back(session: Session, conversation_id: int | None):
    from navaia_app.tickets.models import Ticket

    if conversation_id is None:
        return None
    return session.exec(select(Ticket).where(Ticket.conversation_id == conversation_id,
                                             Ticket.category == CALL_BACK_CATEGORY).order_by(Ticket.id)).first()


def request_handoff(
    *, session: Session, customer: Customer | None, callback_phone: str | None, reason: str = "", summary: str = "",
    conversation_id: int | None = None, now: datetime | None = None,
) -> HandoffDecision:
    """A caller asks for a person. `customer` is whom the call is proven to be with (never the model's word)."""
    from navaia_app.tickets import service as tickets

    now = now or utcnow()
    number = staffed_now(session=session, now=now)
    if number is not None:
        log.info("handoff.transfer", conversation_id=conversation_id, number=mask_phone(number.phone))
        return HandoffDecision(number=number)
    upcoming = next_staffed(session=session, now=now)
    callback_at = upcoming[0] if upcoming else None
    phone = callback_phone or (customer.phone if customer is not None else None)
    existing = _existing_call_back(session, conversation_id)
    if existing is not None:
        return HandoffDecision(ticket_id=existing.id, callback_at=callback_at, callback_phone=phone, repeated=True)
    reason_text = " ".join((reason or "").split())[:150] or "The caller asked to speak to a person"
    lines = [f"The caller asked to speak to a person outside staffed hours. Reason: {reason_text}.",
             f"Call back on: {display_phone(phone) if phone else 'number not given'}"
             + (f" ({customer.name})" if customer is not None else ""),
             f"Promised call back from: {callback_at.isoformat() if callback_at else 'as soon as someone is available'}",
             "", "Summary so far:", (summary or "").strip()[:8000] or "(none given)"]
    ticket = tickets.create_ticket(session=session, title=f"Call back: {reason_text}"[:200],
                                   description="\n".join(lines)[:10_000], priority="high",
                                   category=CALL_BACK_CATEGORY, customer_id=customer.id if customer else None,
                                   source="ai_call", conversation_id=conversation_id)
    log.info("handoff.call_back_ticket", ticket_id=ticket.id, conversation_id=conversation_id,
             customer_id=customer.id if customer else None)
    return HandoffDecision(ticket_id=ticket.id, callback_at=callback_at, callback_phone=phone)
