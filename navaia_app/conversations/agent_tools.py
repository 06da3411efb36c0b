"""What the voice agent can ask during a call (its server tools) and what it learns when an inbound call
starts (conversation-initiation webhook). Answers are small and speakable: each carries a `message`
the agent can read out. Every write goes through the same services as the web app.

Every tool acts only for the customer the call is bound to (conversations/call_binding.py: a signed
call token, or the inbound caller's number), never for an id, phone or email the model passes: a
caller who says "my customer number is 17" hears nothing about customer 17."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from navaia_app.conversations import service as calls
from navaia_app.conversations.call_binding import CallBinding, inbound_call_token, someone_else
from navaia_app.conversations.service import CallerIdentity
from navaia_app.core.db import savepoint
from navaia_app.core.errors import Conflict, ValidationFailed
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.validation import try_normalize_phone
from navaia_app.core.zones import customer_zone, local_midnight
from navaia_app.customers.models import Customer

log = get_logger(__name__)

MAX_SLOTS = 8  # what an agent can reasonably read out
SEARCH_DAYS = 14
# The dynamic variables the initiation webhook always returns (ElevenLabs wants every one it knows).
INITIATION_VARIABLES = ("customer_id", "customer_name", "customer_known", "open_tickets", "open_ticket_titles",
                        "next_booking", "call_token")
NOT_THIS_CALLER = ("I can only discuss the account of the person this call is with, so I cannot share or change "
                   "anything about another customer. Our team can help them directly.")


def spoken_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{local:%A} {local.day} {local:%B} at {hour}"


def _identity(*, customer_id: Any = None, phone: Any = None, email: Any = None, name: Any = None) -> CallerIdentity:
    phone_e164 = try_normalize_phone(str(phone)) if phone not in (None, "") else None
    return CallerIdentity(customer_id=calls._int_or_none(customer_id), phones=[phone_e164] if phone_e164 else [],
                          email=(str(email).strip().lower() or None) if email else None,
                          name=(str(name).strip()[:120] or None) if name else None)


def _customer_summary(customer: Customer) -> dict[str, Any]:
    return {"id": customer.id, "name": customer.name, "phone": customer.phone, "email": customer.email,
            "timezone": customer_zone(customer).key}


def _open_tickets(session: Session, customer_id: int) -> tuple[list[dict[str, Any]], int]:
    from navaia_app.tickets import service as tickets

    items, total = tickets.list_tickets(session=session, customer_id=customer_id, status=["open", "in_progress"],
                                        limit=5)
    return [{"id": t.id, "title": t.title, "status": t.status} for t in items], total


def _next_booking(session: Session, customer: Customer) -> dict[str, Any] | None:
    from navaia_app.bookings import service as bookings

    items, _ = bookings.list_bookings(session=session, customer_id=customer.id, status=["pending", "confirmed"],
                                      starts_from=utcnow(), limit=1)
    if not items:
        return None
    booking, zone = items[0], customer_zone(customer)
    return {"id": booking.id, "service": booking.service, "starts_at": booking.starts_at.astimezone(zone).isoformat(),
            "when": spoken_time(booking.starts_at, zone), "status": booking.status}


def lookup_customer(*, session: Session, binding: CallBinding, customer_id: Any = None, phone: Any = None,
                    email: Any = None) -> dict:
    """The bound customer's record; for a stranger only whether a record matches what they said."""
    identity = _identity(customer_id=customer_id, phone=phone, email=email)
    customer = binding.customer
    if customer is not None and someone_else(session, binding, identity):
        log.info("agent_tool.lookup_refused", bound_customer_id=customer.id, proof=binding.proof)
        return {"verified": False, "refused": True, "message": NOT_THIS_CALLER}
    if customer is None:
        if identity.customer_id is None and not identity.phones and not identity.email:
            raise ValidationFailed("Give the caller's phone, email or customer_id.", field="phone")
        found = calls.find_customer(session=session, identity=identity) is not None
        return {"found": found, "verified": False, "message": (
            "A customer record matches, but this call cannot be verified as theirs, so I cannot share its "
            "details. Offer to raise a ticket so our team calls them back on the number we hold." if found else
            "No customer record matches; ask for their name and email.")}
    tickets, open_count = _open_tickets(session, customer.id)
    booking = _next_booking(session, customer)
    parts = [f"{customer.name}", f"{open_count} open ticket{'s' if open_count != 1 else ''}"]
    parts.append(f"next booking: {booking['service']} on {booking['when']}" if booking else "no upcoming booking")
    return {"found": True, "verified": True, "customer": _customer_summary(customer), "open_tickets": tickets,
            "open_ticket_count": open_count, "next_booking": booking, "message": "; ".join(parts) + "."}


def check_availability(
    *, session: Session, binding: CallBinding, date_text: Any = None, appointment_datetime: Any = None,
    duration_minutes: Any = None, now: datetime | None = None,
) -> dict:
    """Free start times on a day (or the next days), or whether one given time is free, in the bound
    customer's time zone (the business's for a stranger)."""
    from navaia_app.bookings import service as bookings

    now = now or utcnow()
    zone = customer_zone(binding.customer)
    duration = get_settings().booking_slot_minutes if duration_minutes in (None, "") else \
        calls.parse_minutes(duration_minutes)
    if duration is None or duration <= 0:
        raise ValidationFailed("duration_minutes must be a whole number of minutes.", field="duration_minutes")
    wanted = None
    if appointment_datetime not in (None, ""):
        wanted = calls.parse_appointment_time(appointment_datetime, zone)
        if wanted is None:
            raise ValidationFailed("appointment_datetime must be an ISO 8601 date and time.",
                                   field="appointment_datetime")
        day = wanted.astimezone(zone).date()
        days = [day]
    elif date_text not in (None, ""):
        try:
            day = date.fromisoformat(str(date_text).strip()[:10])
        except ValueError:
            raise ValidationFailed("date must be YYYY-MM-DD.", field="date") from None
        days = [day]
    else:
        today = now.astimezone(zone).date()
        days = [today + timedelta(days=i) for i in range(SEARCH_DAYS)]

    start = max(local_midnight(days[0], zone), now)
    end = local_midnight(days[-1] + timedelta(days=1), zone)
    slots = bookings.free_slots(session=session, start=start, end=end, duration_minutes=duration) if end > start \
        else []
    result: dict[str, Any] = {"timezone": zone.key, "duration_minutes": duration}
    if wanted is not None:
        available = any(abs((slot - wanted).total_seconds()) < 60 for slot in slots)
        others = sorted(slots, key=lambda slot: abs((slot - wanted).total_seconds()))[:3]
        others = sorted(others)
        result.update(available=available, requested=wanted.astimezone(zone).isoformat(),
                      slots=[s.astimezone(zone).isoformat() for s in others])
        if available:
            result["message"] = f"{spoken_time(wanted, zone)} is free."
        elif others:
            result["message"] = (f"{spoken_time(wanted, zone)} is not available. Closest free times: "
                                 + ", ".join(spoken_time(s, zone) for s in others) + ".")
        else:
            result["message"] = f"{spoken_time(wanted, zone)} is not available, and that day is fully booked."
        return result
    shown = slots[:MAX_SLOTS]
    result.update(available=bool(shown), slots=[s.astimezone(zone).isoformat() for s in shown])
    result["message"] = ("Free times: " + ", ".join(spoken_time(s, zone) for s in shown) + ".") if shown else \
        "There is no free time in that period."
    return result


def _conversation_id(session: Session, external_id: Any) -> int | None:
    """Our conversation row for the call in progress (created now if needed), so the post-call webhook
    links to what the agent made instead of making it again."""
    text = str(external_id or "").strip()
    if not text or text.startswith("{{") or len(text) > 128:
        return None
    conversation = calls.conversation_for(session=session, external_id=text)
    bump(session, "conversations")
    return conversation.id


def _new_caller(session: Session, binding: CallBinding, identity: CallerIdentity) -> tuple[Customer | None, str]:
    """A stranger's own new record, from what they said and the line they call from; (None, why) when
    what they said belongs to an existing customer (their records are not changed for a stranger)."""
    if identity.customer_id is not None or calls.find_customer(session=session, identity=identity) is not None:
        return None, NOT_THIS_CALLER
    phones = [p for p in [binding.caller_phone, *identity.phones] if p]
    new = CallerIdentity(phones=list(dict.fromkeys(phones)), email=identity.email, name=identity.name)
    customer, why = calls.find_or_create_customer(session=session, identity=new)
    return customer, (why + " Ask for the caller's phone number.") if customer is None else ""


def _acting_for(session: Session, binding: CallBinding, identity: CallerIdentity) -> tuple[Customer | None, str]:
    """The customer a booking or ticket of this call is for: the bound one, or a stranger's own new record."""
    if binding.customer is not None:
        if someone_else(session, binding, identity):
            log.info("agent_tool.other_customer_refused", bound_customer_id=binding.customer.id, proof=binding.proof)
            return None, NOT_THIS_CALLER
        return binding.customer, ""
    return _new_caller(session, binding, identity)


def book_appointment(
    *, session: Session, binding: CallBinding, service: Any, appointment_datetime: Any, duration_minutes: Any = None,
    notes: Any = "", customer_id: Any = None, customer_phone: Any = None, customer_name: Any = None,
    customer_email: Any = None, conversation_id: Any = None,
) -> dict:
    from navaia_app.bookings import service as bookings

    service_name = str(service or "").strip()
    if not service_name:
        raise ValidationFailed("service is required.", field="service")
    identity = _identity(customer_id=customer_id, phone=customer_phone, email=customer_email, name=customer_name)
    customer, why = _acting_for(session, binding, identity)
    if customer is None:
        return {"booked": False, "message": why}
    zone = customer_zone(customer)
    starts_at = calls.parse_appointment_time(appointment_datetime, zone)
    if starts_at is None:
        raise ValidationFailed("appointment_datetime must be an ISO 8601 date and time.", field="appointment_datetime")
    duration = None if duration_minutes in (None, "") else calls.parse_minutes(duration_minutes)
    if duration is None and duration_minutes not in (None, ""):
        raise ValidationFailed("duration_minutes must be a whole number of minutes.", field="duration_minutes")
    linked = _conversation_id(session, conversation_id)
    try:
        with savepoint(session):
            booking = bookings.create_booking(session=session, customer_id=customer.id, service=service_name,
                                              starts_at=starts_at, duration_minutes=duration,
                                              notes=str(notes or "").strip()[:4000], source="ai_call",
                                              conversation_id=linked)
    except (ValidationFailed, Conflict) as exc:
        log.info("agent_tool.booking_refused", customer_id=customer.id, reason=exc.message[:120])
        return {"booked": False, "message": exc.message}
    return {"booked": True, "booking_id": booking.id, "customer_id": customer.id,
            "starts_at": booking.starts_at.astimezone(zone).isoformat(),
            "message": f"Booked {booking.service} for {customer.name} on {spoken_time(booking.starts_at, zone)}."}


def _unverified_note(identity: CallerIdentity) -> str:
    said = [f"{label}: {value}" for label, value in (
        ("name", identity.name), ("phone", ", ".join(identity.phones)), ("email", identity.email),
        ("customer id", identity.customer_id)) if value]
    return ("\n\nThe caller could not be verified as the customer they named; they said " + "; ".join(said)
            + ". Check before linking this ticket.") if said else ""


def raise_ticket(
    *, session: Session, binding: CallBinding, issue_summary: Any, issue_details: Any = "", priority: Any = None,
    category: Any = "", customer_id: Any = None, customer_phone: Any = None, customer_name: Any = None,
    customer_email: Any = None, conversation_id: Any = None,
) -> dict:
    """A ticket for the bound customer (or a stranger's own new record). When the caller names someone
    else's record, the ticket is kept unlinked with what they said, so nothing is lost and nobody's
    records change on an unverified word."""
    from navaia_app.tickets import service as tickets

    title = str(issue_summary or "").strip()[:200]
    if not title:
        raise ValidationFailed("issue_summary is required.", field="issue_summary")
    identity = _identity(customer_id=customer_id, phone=customer_phone, email=customer_email, name=customer_name)
    customer, refused = _acting_for(session, binding, identity)
    description = str(issue_details or "")[:10_000]
    if customer is None and refused == NOT_THIS_CALLER:
        description = (description + _unverified_note(identity))[:10_000]
    linked = _conversation_id(session, conversation_id)
    try:
        with savepoint(session):
            ticket = tickets.create_ticket(session=session, title=title, description=description,
                                           priority=calls.normalize_priority(priority),
                                           category=str(category or "").strip()[:60],
                                           customer_id=customer.id if customer else None, source="ai_call",
                                           conversation_id=linked)
    except (ValidationFailed, Conflict) as exc:
        return {"created": False, "message": exc.message}
    return {"created": True, "ticket_id": ticket.id, "customer_id": customer.id if customer else None,
            "message": f"Ticket {ticket.id} is open: {ticket.title}. Our team will follow up."}


def request_handoff(
    *, session: Session, binding: CallBinding, reason: Any = "", summary: Any = "", phone: Any = None,
    conversation_id: Any = None, now: datetime | None = None,
) -> dict:
    """The caller asks for a person: the number to transfer to while one is staffed, else a call-back ticket
    (for the customer the call proves, never one the model names) and when someone will call back."""
    from navaia_app.handoff import service as handoff

    callback_phone = try_normalize_phone(str(phone)) if phone not in (None, "") and not str(phone).startswith("{{") \
        else None
    decision = handoff.request_handoff(
        session=session, customer=binding.customer, callback_phone=callback_phone or binding.caller_phone,
        reason=str(reason or ""), summary=str(summary or ""), conversation_id=_conversation_id(session, conversation_id),
        now=now)
    if decision.number is not None:
        who = decision.number.label or "a member of our team"
        return {"transfer": True, "transfer_number": decision.number.phone, "label": decision.number.label,
                "message": f"Transferring you to {who} now.",
                "instruction": f"Call transfer_to_number with {decision.number.phone}."}
    zone = customer_zone(binding.customer)
    when = spoken_time(decision.callback_at, zone) if decision.callback_at else None
    answer = {"transfer": False, "ticket_id": decision.ticket_id, "timezone": zone.key,
              "callback_at": decision.callback_at.astimezone(zone).isoformat() if decision.callback_at else None}
    answer["message"] = ("Nobody is available to take the call right now. I have asked our team to call you back"
                         + (f"; someone will call you from {when}." if when else " as soon as someone is available."))
    return answer


def initiation_data(*, session: Session, caller_id: Any) -> dict:
    """conversation_initiation_client_data for an inbound call: who is calling, their open tickets and
    next booking. Every variable is always present (empty for an unknown caller)."""
    variables: dict[str, Any] = {"customer_id": "", "customer_name": "", "customer_known": False,
                                 "open_tickets": 0, "open_ticket_titles": "", "next_booking": "none",
                                 "call_token": ""}
    identity = _identity(phone=caller_id)
    customer = calls.find_customer(session=session, identity=identity) if identity.phones else None
    # The carrier's caller number binds the call; the tools get the proof as a signed token.
    variables["call_token"] = inbound_call_token(customer)
    if customer is not None:
        tickets, open_count = _open_tickets(session, customer.id)
        booking = _next_booking(session, customer)
        variables.update(customer_id=str(customer.id), customer_name=customer.name, customer_known=True,
                         open_tickets=open_count, open_ticket_titles="; ".join(t["title"] for t in tickets),
                         next_booking=f"{booking['service']} on {booking['when']}" if booking else "none")
    return {"type": "conversation_initiation_client_data", "dynamic_variables": variables}
