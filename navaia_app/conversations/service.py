"""Voice-agent calls: what a post-call webhook means (intent and slots -> booking or ticket), who
the caller is, the review queue, and the inbox the webhooks wait in until the worker runs them.

Bookings and tickets are made only through their own services (bookings.service.create_booking,
tickets.service.create_ticket): their rules (opening hours, no double booking, field limits)
apply unchanged, and a refusal sends the call to review with the service's own message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, func, or_, select

from navaia_app.conversations.models import INTENTS, OUTCOMES, Conversation, ConversationEvaluation, WebhookEvent
from navaia_app.core.db import get_or_not_found, savepoint
from navaia_app.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from navaia_app.core.filters import like_escape
from navaia_app.core.live import bump
from navaia_app.core.logging import bind_log, get_logger, mask_phone
from navaia_app.core.settings import get_settings
from navaia_app.core.types import fits_db_int, utcnow
from navaia_app.core.validation import display_phone, try_normalize_phone
from navaia_app.core.zones import customer_zone
from navaia_app.customers.models import Customer
from navaia_app.outreach import calls
from navaia_app.outreach.outcomes import initiation_failure_outcome
from navaia_app.webhooks_out import outbox

log = get_logger(__name__)

MAX_ATTEMPTS = 5  # then the event is marked failed, shown in the UI, and waits for a person to re-run it
# How long the sweeper leaves a pending event alone after its last try (index: tries so far).
SWEEP_GRACE = timedelta(seconds=20)
RETRY_BACKOFF = (timedelta(seconds=20), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
                 timedelta(minutes=30))
MAX_PAGE = 200
MAX_REASON = 500
EVALUATION_RESULTS = ("success", "failure", "unknown")
GOAL_OUTCOMES = ("booking_created", "ticket_created")
TRANSFER_TOOLS = ("transfer_to_number",)  # ElevenLabs' system tool that hands the call to a phone number
VOICEMAIL_TOOLS = ("voicemail_detection",)  # ElevenLabs' system tool the agent calls on meeting a machine
PRIORITY_WORDS = {"low": "low", "minor": "low", "medium": "medium", "normal": "medium", "moderate": "medium",
                  "high": "high", "important": "high", "urgent": "urgent", "critical": "urgent",
                  "emergency": "urgent", "asap": "urgent"}


# --- reading a payload -----------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int | None = None) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    text = str(value).strip()
    return text[:limit] if limit else text


def collected_values(data: dict[str, Any]) -> dict[str, Any]:
    """The data-collection results as {name: value} (each arrives as {"value": ...})."""
    results = _dict(_dict(data.get("analysis")).get("data_collection_results"))
    values: dict[str, Any] = {}
    for key, entry in results.items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        if value is not None and value != "":
            values[str(key)[:60]] = value
    return values


def dynamic_variables(data: dict[str, Any]) -> dict[str, Any]:
    """The dynamic variables ElevenLabs echoes back in a post-call payload (those we sent when the call began);
    {} when absent.
    """
    return _dict(_dict(data.get("conversation_initiation_client_data")).get("dynamic_variables"))


def read_intent(data: dict[str, Any], values: dict[str, Any]) -> str | None:
    """The caller's intent as a snake_case word (from data collection, or the payload's own field), or None when
    the agent collected none.
    """
    raw = values.get("intent", data.get("intent"))
    text = _text(raw).lower()
    if not text:
        return None
    return re.sub(r"[\s\-]+", "_", text)[:60]


def _int_or_none(value: Any) -> int | None:
    """An id the agent or the webhook sent, loosely typed; None when it is none (or could name no row)."""
    if isinstance(value, bool):
        return None
    number = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 12:  # not '²', not 10**5000
        number = int(value.strip())
    return number if number is not None and fits_db_int(number) else None


def normalize_transcript(turns: Any) -> list[dict[str, Any]]:
    """role, message, seconds into the call, and the names of tools the agent used on that turn."""
    out: list[dict[str, Any]] = []
    for turn in turns if isinstance(turns, list) else []:
        if not isinstance(turn, dict):
            continue
        role = _text(turn.get("role"), 20).lower() or "unknown"
        message = _text(turn.get("message"), 10_000)
        tools = [_text(_dict(call).get("tool_name"), 80) for call in turn.get("tool_calls") or []
                 if isinstance(call, dict)]
        tools = [name for name in tools if name]
        if not message and not tools:
            continue
        seconds = turn.get("time_in_call_secs")
        out.append({"role": role, "message": message, "time_in_call_secs": _int_or_none(seconds) or 0,
                    "tool_calls": tools})
    return out


def parse_appointment_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """ISO 8601 date and time; without an offset it is a wall-clock time in `zone`. None when unreadable."""
    text = _text(value)
    if not text or ("T" not in text and " " not in text):
        return None  # a date alone is not an appointment
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def parse_minutes(value: Any) -> int | None:
    """30, "30", "30 minutes", "1 hour" -> minutes; None when unreadable."""
    number = _int_or_none(value)
    if number is not None:
        return number
    text = _text(value).lower()
    match = re.match(r"^(\d+(?:\.\d+)?)\s*(h|hr|hrs|hour|hours|m|min|mins|minute|minutes)?$", text)
    if not match:
        return None
    amount = float(match.group(1))
    unit = match.group(2) or "minutes"
    minutes = amount * 60 if unit.startswith("h") else amount
    return int(minutes) if minutes.is_integer() else None


def normalize_priority(value: Any) -> str:
    """A ticket priority from the agent's wording ("urgent", "asap", "high"...); "medium" when it is unknown."""
    return PRIORITY_WORDS.get(_text(value).lower(), "medium")


# --- who the caller is ------------------------------------------------------------------------


@dataclass
class CallerIdentity:
    customer_id: int | None = None
    phones: list[str] = field(default_factory=list)  # E.164, most trusted first
    email: str | None = None
    name: str | None = None


def caller_identity(data: dict[str, Any], values: dict[str, Any]) -> CallerIdentity:
    """What the call tells about the caller: the collected slots, our own dynamic variables, the line."""
    variables = dynamic_variables(data)
    phone_call = _dict(_dict(data.get("metadata")).get("phone_call"))
    phones: list[str] = []
    for raw in (values.get("customer_phone"), phone_call.get("external_number"), variables.get("system__caller_id")):
        phone = try_normalize_phone(_text(raw)) if _text(raw) else None
        if phone and phone not in phones:
            phones.append(phone)
    email = _text(values.get("customer_email"), 254).lower() or None
    return CallerIdentity(customer_id=_int_or_none(variables.get("customer_id")), phones=phones, email=email,
                          name=_text(values.get("customer_name"), 120) or None)


def find_customer(*, session: Session, identity: CallerIdentity) -> Customer | None:
    """By id, then by phone (E.164), then by email."""
    from navaia_app.customers import service as customers

    if identity.customer_id is not None:
        customer = session.get(Customer, identity.customer_id)
        if customer is not None:
            return customer
    for phone in identity.phones:
        customer = customers.find_by_phone(session=session, phone=phone)
        if customer is not None:
            return customer
    if identity.email:
        try:
            items, _ = customers.list_customers(session=session, email=identity.email, sort="id", limit=1)
        except DomainError:
            items = []
        if items:
            return items[0]
    return None


def find_or_create_customer(*, session: Session, identity: CallerIdentity) -> tuple[Customer | None, str]:
    """The matching customer, else a new one; (None, why) when there is nothing to create one from."""
    from navaia_app.customers import service as customers
    from navaia_app.customers.models import CustomerIn

    customer = find_customer(session=session, identity=identity)
    if customer is not None:
        return customer, ""
    if not identity.phones:
        return None, "The caller could not be identified: no phone number, and no customer matches."
    phone = identity.phones[0]
    name = identity.name or f"Caller {display_phone(phone)}"
    for email in ([identity.email, None] if identity.email else [None]):
        try:
            customer = customers.create_customer(
                session=session, customer_in=CustomerIn(name=name, phone=phone, email=email))
        except ValidationFailed as exc:
            if email is not None and "email" in (exc.errors or {}):
                continue  # an unusable email must not stop the call from being linked
            return None, f"A customer could not be created from the call: {exc.message}"
        except Conflict:
            customer = customers.find_by_phone(session=session, phone=phone)
            if customer is None:
                raise
        log.info("conversation.customer_created", customer_id=customer.id, phone=mask_phone(phone))
        return customer, ""
    return None, "A customer could not be created from the call."  # pragma: no cover


# --- the inbox --------------------------------------------------------------------------------


def get_conversation_by_external_id(*, session: Session, external_id: str) -> Conversation | None:
    """The conversation with this ElevenLabs conversation id, or None."""
    return session.exec(select(Conversation).where(Conversation.external_id == external_id)).first()


def conversation_for(*, session: Session, external_id: str, agent_id: str | None = None,
                     prepare: Callable[[Conversation], None] | None = None) -> Conversation:
    """The conversation with this ElevenLabs id, created (empty, pending) when it is new, and flushed (it has
    its id). `prepare` fills it in before that flush: a new conversation is then one INSERT, not an INSERT
    and an UPDATE. `session.info` remembers which conversations this transaction created."""
    conversation = get_conversation_by_external_id(session=session, external_id=external_id)
    if conversation is None:
        conversation = Conversation(external_id=external_id[:128], agent_id=agent_id, outcome="pending",
                                    status="in_progress")
        _created_here(session).add(conversation.external_id)
    if prepare is not None:
        prepare(conversation)
    session.add(conversation)
    session.flush()
    bind_log(conversation_id=conversation.id)
    return conversation


_CREATED_HERE = "navaia_conversations_created"


def _created_here(session: Session) -> set[str]:
    """The external ids of the conversations this transaction created (kept per outer transaction)."""
    transaction = session.get_transaction()
    mark = session.info.get(_CREATED_HERE)
    if mark is None or mark[0] is not transaction:
        mark = session.info[_CREATED_HERE] = (transaction, set())
    return mark[1]


def _created_in_this_transaction(session: Session, conversation: Conversation) -> bool:
    return conversation.external_id in _created_here(session)


def _claim(session: Session, event_id: int) -> WebhookEvent | None:
    """Take the event for this transaction (with its payload); None when it is gone or done already.

    The UPDATE comes first: PostgreSQL locks the row (a second worker waits, then sees it done),
    SQLite takes its write lock (one writer at a time), so an event is never processed twice.
    """
    return session.scalars(
        sa.update(WebhookEvent).where(WebhookEvent.id == event_id, WebhookEvent.status == "pending")
        .values(last_attempt_at=utcnow()).returning(WebhookEvent),
        execution_options={"synchronize_session": False},
    ).first()


def process_inbox_event(*, session: Session, event_id: int) -> str:
    """Run one stored webhook: 'processed', or 'skipped' when it is unknown or was done already.

    Raises when a step fails; the caller rolls back and records the failure (record_inbox_failure).
    """
    event = _claim(session, event_id)
    if event is None:
        return "skipped"
    doc = json.loads(event.payload)
    data = _dict(doc.get("data"))
    if event.event_type == "post_call_transcription":
        conversation = _process_transcription(session, data)
    elif event.event_type == "post_call_audio":
        conversation = _process_audio(session, event, data)
    elif event.event_type == "call_initiation_failure":
        conversation = _process_initiation_failure(session, data)
    else:  # stored by an older version that knew more types: nothing to do
        conversation = None
    event.status = "processed"
    event.processed_at = utcnow()
    event.attempts += 1
    event.last_error = None
    event.conversation_id = conversation.id if conversation is not None else None
    session.add(event)
    bump(session, "conversations")
    if event.event_type == "post_call_transcription" and conversation is not None:
        outbox.emit(session, "conversation.processed", processed_event_data(conversation))
    log.info("webhook.processed", event_id=event.id, event_type=event.event_type,
             conversation_id=event.conversation_id)
    return "processed"


def processed_event_data(conversation: Conversation) -> dict[str, Any]:
    """What `conversation.processed` tells receivers: the intent, what the call led to, links to it."""
    base = get_settings().public_base_url.rstrip("/")
    links = {"conversation": f"{base}/conversations?id={conversation.id}"}
    if conversation.ticket_id:
        links["ticket"] = f"{base}/tickets?id={conversation.ticket_id}"
    if conversation.booking_id:
        links["booking"] = f"{base}/bookings?id={conversation.booking_id}"
    return {"id": conversation.id, "external_id": conversation.external_id, "intent": conversation.intent,
            "outcome": conversation.outcome, "summary": conversation.summary, "customer_id": conversation.customer_id,
            "ticket_id": conversation.ticket_id, "booking_id": conversation.booking_id,
            "needs_review": conversation.needs_review, "review_reason": conversation.review_reason,
            "direction": conversation.direction, "duration_seconds": conversation.duration_seconds,
            "started_at": conversation.started_at.isoformat() if conversation.started_at else None, "links": links}


def record_inbox_failure(*, session: Session, event_id: int, error: str) -> str:
    """Count a failed try; after MAX_ATTEMPTS the event is 'failed' (shown, re-runnable). Returns its status."""
    event = session.get(WebhookEvent, event_id)
    if event is None or event.status != "pending":
        return event.status if event is not None else "missing"
    event.attempts += 1
    event.last_attempt_at = utcnow()
    event.last_error = error[:2000]
    if event.attempts >= MAX_ATTEMPTS:
        event.status = "failed"
    session.add(event)
    bump(session, "conversations")
    log.warning("webhook.processing_failed", event_id=event.id, event_type=event.event_type,
                attempts=event.attempts, final=event.status == "failed", error=error[:200])
    return event.status


def due_inbox_events(*, session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Pending events that nobody has run for a while (worker crash, Redis down on arrival)."""
    rows = session.exec(
        select(WebhookEvent.id, WebhookEvent.attempts, WebhookEvent.last_attempt_at)
        .where(WebhookEvent.status == "pending", WebhookEvent.received_at <= now - SWEEP_GRACE)
        .order_by(WebhookEvent.received_at).limit(limit)
    ).all()
    due = []
    for event_id, attempts, last_attempt_at in rows:
        wait = RETRY_BACKOFF[min(attempts, len(RETRY_BACKOFF) - 1)]
        if last_attempt_at is None or last_attempt_at <= now - wait:
            due.append(event_id)
    return due


def retry_inbox_event(*, session: Session, event_id: int) -> WebhookEvent:
    """A person asks to run a failed event again: it becomes pending with a fresh count of tries."""
    event = session.get(WebhookEvent, event_id)
    if event is None:
        raise NotFound(f"Webhook event {event_id} not found.")
    if event.status == "processed":
        raise Conflict("This event was processed already.")
    event.status, event.attempts, event.last_attempt_at = "pending", 0, None
    session.add(event)
    bump(session, "conversations")
    log.info("webhook.retry_requested", event_id=event.id)
    return event


def inbox_counts(*, session: Session) -> dict[str, int]:
    """How many webhook events wait in the inbox ("pending") and how many failed, and any other unprocessed
    status.
    """
    rows = session.exec(select(WebhookEvent.status, func.count()).where(WebhookEvent.status != "processed")
                        .group_by(WebhookEvent.status)).all()
    counts = {"pending": 0, "failed": 0}
    counts.update({status: count for status, count in rows})
    return counts


def list_inbox_events(*, session: Session, status: str = "failed", limit: int = 25,
                      offset: int = 0) -> tuple[list[WebhookEvent], int]:
    """One page of inbox events in one status, newest first, without their (large) payloads, and the total."""
    limit = max(1, min(int(limit), MAX_PAGE))
    condition = WebhookEvent.status == status
    columns = [c for c in WebhookEvent.__table__.c if c.name != "payload"]
    rows = session.exec(select(*columns).where(condition)
                        .order_by(WebhookEvent.received_at.desc()).limit(limit).offset(max(0, offset))).all()
    items = [WebhookEvent(**row._mapping, payload="") for row in rows]
    total = session.exec(select(func.count()).select_from(WebhookEvent).where(condition)).one()
    return items, total


# --- what a call becomes ----------------------------------------------------------------------


def _to_review(conversation: Conversation, reason: str) -> None:
    conversation.needs_review = True
    conversation.review_reason = reason[:MAX_REASON]
    conversation.outcome = "needs_review"
    log.info("conversation.needs_review", conversation_id=conversation.id, reason=reason[:120])


def read_evaluation(analysis: dict[str, Any]) -> dict[str, dict[str, str]]:
    """analysis.evaluation_criteria_results as {criterion: {"result": success|failure|unknown, "rationale"}}."""
    out: dict[str, dict[str, str]] = {}
    for key, entry in _dict(analysis.get("evaluation_criteria_results")).items():
        entry = entry if isinstance(entry, dict) else {"result": entry}
        criterion = (_text(entry.get("criteria_id"), 80) or _text(key, 80))
        if not criterion:
            continue
        result = _text(entry.get("result"), 12).lower()
        out[criterion] = {"result": result if result in EVALUATION_RESULTS else "unknown",
                          "rationale": _text(entry.get("rationale"), 2000)}
    return out


def _tool_params(call: dict[str, Any]) -> dict[str, Any]:
    params = call.get("params_as_json", call.get("parameters"))
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return {}
    return _dict(params)


def read_transfer(data: dict[str, Any], started_at: datetime | None) -> tuple[str | None, datetime | None]:
    """The number the agent transferred the call to (its `transfer_to_number` system tool) and when."""
    for turn in data.get("transcript") if isinstance(data.get("transcript"), list) else []:
        if not isinstance(turn, dict):
            continue
        failed = {(_text(_dict(r).get("tool_name"), 80)) for r in turn.get("tool_results") or []
                  if isinstance(r, dict) and r.get("is_error") is True}
        for call in turn.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            name = _text(call.get("tool_name"), 80)
            if name not in TRANSFER_TOOLS or name in failed:
                continue
            params = _tool_params(call)
            raw = params.get("transfer_number") or params.get("phone_number") or params.get("number")
            phone = try_normalize_phone(_text(raw)) if _text(raw) else None
            seconds = _int_or_none(turn.get("time_in_call_secs")) or 0
            return phone, (started_at + timedelta(seconds=seconds)) if started_at else utcnow()
    return None, None


def read_voicemail(data: dict[str, Any]) -> str | None:
    """What the post-call data says of an answering machine: "voicemail_left" when the agent met one
    (its voicemail_detection system tool, or a termination reason that says voicemail) and left a message
    (the tool's message, or an agent turn after detection), "voicemail" when it left none, None for a person."""
    turns = [t for t in (data.get("transcript") if isinstance(data.get("transcript"), list) else [])
             if isinstance(t, dict)]
    detected, message = None, ""
    for index, turn in enumerate(turns):
        for call in turn.get("tool_calls") or []:
            if isinstance(call, dict) and _text(call.get("tool_name"), 80) in VOICEMAIL_TOOLS and detected is None:
                detected = index
                params = _tool_params(call)
                message = _text(params.get("voicemail_message") or params.get("message"), 2000)
    reason = _text(_dict(data.get("metadata")).get("termination_reason"), 200).lower()
    if detected is None and "voicemail" not in reason:
        return None
    spoken_after = detected is not None and any(
        _text(t.get("role")).lower() == "agent" and _text(t.get("message")) for t in turns[detected + 1:])
    return "voicemail_left" if message or spoken_after or "voicemail_left" in reason.replace(" ", "_") else "voicemail"


def goal_reached(conversation: Conversation) -> bool:
    """What "the call worked" means everywhere (analytics, filters): a booking made, a ticket raised, the
    agent's own verdict (analysis.call_successful), or every evaluation criterion met."""
    if conversation.booking_id or conversation.ticket_id or conversation.outcome in GOAL_OUTCOMES:
        return True
    if (conversation.call_successful or "").lower() == "success":
        return True
    results = [entry.get("result") for entry in (conversation.evaluation or {}).values()]
    return bool(results) and all(result == "success" for result in results)


def _store_evaluation(session: Session, conversation: Conversation) -> None:
    if not _created_in_this_transaction(session, conversation):  # a new one has none to replace
        session.exec(sa.delete(ConversationEvaluation)
                     .where(ConversationEvaluation.conversation_id == conversation.id))
    at = conversation.started_at or conversation.created_at or utcnow()
    for criterion, entry in (conversation.evaluation or {}).items():
        session.add(ConversationEvaluation(conversation_id=conversation.id, criterion=criterion,
                                           result=entry["result"], rationale=entry["rationale"], occurred_at=at))


def _fill_from_payload(conversation: Conversation, data: dict[str, Any], values: dict[str, Any]) -> None:
    metadata = _dict(data.get("metadata"))
    analysis = _dict(data.get("analysis"))
    phone_call = _dict(metadata.get("phone_call"))
    conversation.agent_id = _text(data.get("agent_id"), 128) or conversation.agent_id
    conversation.status = _text(data.get("status"), 32) or "done"
    conversation.transcript = normalize_transcript(data.get("transcript"))
    conversation.data_collection = {k: (v if isinstance(v, (str, int, float, bool)) else json.dumps(v)[:2000])
                                    for k, v in values.items()}
    conversation.summary = _text(analysis.get("transcript_summary"), 10_000)
    conversation.title = _text(analysis.get("call_summary_title"), 200)
    conversation.call_successful = _text(analysis.get("call_successful"), 20) or None
    conversation.duration_seconds = _int_or_none(metadata.get("call_duration_secs"))
    started = _int_or_none(metadata.get("start_time_unix_secs"))
    if started is not None and 0 < started < 2**32:
        conversation.started_at = datetime.fromtimestamp(started, timezone.utc)
    direction = _text(phone_call.get("direction"), 10).lower()
    conversation.direction = direction if direction in ("inbound", "outbound") else ("phone" if phone_call else "web")
    external = try_normalize_phone(_text(phone_call.get("external_number"))) if phone_call else None
    conversation.caller_phone = external or try_normalize_phone(
        _text(dynamic_variables(data).get("system__caller_id"))) or None
    conversation.evaluation = read_evaluation(analysis)
    conversation.evaluation_failed = any(e["result"] == "failure" for e in conversation.evaluation.values())
    cost = _int_or_none(metadata.get("cost"))
    conversation.cost = cost if cost is not None and cost >= 0 else None
    conversation.termination_reason = _text(metadata.get("termination_reason"), 200) or None
    conversation.handed_off_to, conversation.handed_off_at = read_transfer(data, conversation.started_at)
    conversation.updated_at = utcnow()


def _linked(session: Session, model, conversation_id: int):
    return session.exec(select(model).where(model.conversation_id == conversation_id).order_by(model.id)).first()


def _made(conversation: Conversation, kind: str, record_id: int) -> None:
    """The call made a `kind` ("booking" or "ticket"): link it and say so in the outcome."""
    setattr(conversation, f"{kind}_id", record_id)
    conversation.outcome = f"{kind}_created"


def _made_during_call(session: Session, conversation: Conversation, model, kind: str) -> bool:
    """The agent's tool already made the call's `kind` while it ran (linked by conversation_id): link that one."""
    already = _linked(session, model, conversation.id)
    if already is not None:
        _made(conversation, kind, already.id)
    return already is not None


def _create_from_call(session: Session, conversation: Conversation, kind: str, create: Callable[[], Any]) -> None:
    """`create()` the call's `kind` in a savepoint; a refusal (ValidationFailed, Conflict) sends the call to review."""
    try:
        with savepoint(session):
            record = create()
    except (ValidationFailed, Conflict) as exc:
        return _to_review(conversation, f"The {kind} was refused: {exc.message}")
    _made(conversation, kind, record.id)


def _book(session: Session, conversation: Conversation, customer: Customer | None, why_no_customer: str,
          values: dict[str, Any]) -> None:
    from navaia_app.bookings import service as bookings
    from navaia_app.bookings.models import Booking

    if _made_during_call(session, conversation, Booking, "booking"):
        return
    service_name = _text(values.get("service"), 120)
    if not service_name:
        return _to_review(conversation, "The caller wants an appointment, but the agent did not collect which "
                                        "service (slot 'service' is missing).")
    if "appointment_datetime" not in values:
        return _to_review(conversation, "The caller wants an appointment, but the agent did not collect when "
                                        "(slot 'appointment_datetime' is missing).")
    duration = None  # the booking service's slot length
    if "duration_minutes" in values:
        duration = parse_minutes(values["duration_minutes"])
        if duration is None:
            return _to_review(conversation, f"The appointment length '{_text(values['duration_minutes'], 40)}' "
                                            "is not a number of minutes.")
    if customer is None:
        return _to_review(conversation, why_no_customer)
    starts_at = parse_appointment_time(values["appointment_datetime"], customer_zone(customer))
    if starts_at is None:
        return _to_review(conversation, f"The appointment time '{_text(values['appointment_datetime'], 60)}' "
                                        "is not a date and time the system can read.")
    # The agent may have booked this very slot through its tool without telling us the conversation.
    same = session.exec(select(Booking).where(
        Booking.customer_id == customer.id, Booking.starts_at == starts_at.astimezone(timezone.utc),
        Booking.service == service_name, Booking.status != "cancelled")).first()
    if same is not None:
        if same.conversation_id is None:
            same.conversation_id = conversation.id
            session.add(same)
        return _made(conversation, "booking", same.id)
    return _create_from_call(session, conversation, "booking", lambda: bookings.create_booking(
        session=session, customer_id=customer.id, service=service_name, starts_at=starts_at,
        duration_minutes=duration, notes=_text(values.get("notes"), 4000), source="ai_call",
        conversation_id=conversation.id))


def _raise_ticket(session: Session, conversation: Conversation, customer: Customer | None,
                  values: dict[str, Any]) -> None:
    from navaia_app.tickets import service as tickets
    from navaia_app.tickets.models import Ticket

    if _made_during_call(session, conversation, Ticket, "ticket"):
        return
    title = _text(values.get("issue_summary"), 200)
    if not title:
        return _to_review(conversation, "The caller has an issue, but the agent did not collect a summary "
                                        "(slot 'issue_summary' is missing).")
    description = _text(values.get("issue_details"), 10_000) or conversation.summary[:10_000]
    return _create_from_call(session, conversation, "ticket", lambda: tickets.create_ticket(
        session=session, title=title, description=description,
        priority=normalize_priority(values.get("priority")), category=_text(values.get("category"), 60),
        customer_id=customer.id if customer is not None else None, source="ai_call",
        conversation_id=conversation.id))


def _link_campaign_call(session: Session, conversation: Conversation, data: dict[str, Any], *, outcome: str,
                        detail: str | None = None, provider_call_id: str | None = None) -> None:
    variables = dynamic_variables(data)
    campaign_call_id = _int_or_none(variables.get("campaign_call_id"))
    if campaign_call_id is None and not provider_call_id:
        return
    call = calls.record_call_outcome(
        session=session, outcome=outcome, campaign_call_id=campaign_call_id, provider_call_id=provider_call_id,
        conversation_id=conversation.id, duration_seconds=conversation.duration_seconds, detail=detail)
    if call is not None:
        conversation.campaign_call_id = call.id


def _process_transcription(session: Session, data: dict[str, Any]) -> Conversation:
    values = collected_values(data)
    audio = session.exec(select(WebhookEvent.media_path).where(
        WebhookEvent.source == "elevenlabs", WebhookEvent.event_type == "post_call_audio",
        WebhookEvent.external_id == data["conversation_id"][:128])).first()

    def fill(conversation: Conversation) -> None:
        _fill_from_payload(conversation, data, values)
        conversation.intent = read_intent(data, values)
        conversation.needs_review, conversation.review_reason = False, None
        if audio:
            conversation.audio_path = audio

    conversation = conversation_for(session=session, external_id=data["conversation_id"],
                                    agent_id=_text(data.get("agent_id"), 128) or None, prepare=fill)
    # What follows changes the conversation step by step: one UPDATE at the end, not one per query between.
    with session.no_autoflush:
        _act_on(session, conversation, data, values)
    session.add(conversation)
    session.flush()
    log.info("conversation.recorded", conversation_id=conversation.id, intent=conversation.intent,
             outcome=conversation.outcome, customer_id=conversation.customer_id)
    return conversation


def _act_on(session: Session, conversation: Conversation, data: dict[str, Any], values: dict[str, Any]) -> None:
    """What the call becomes: its customer, then a booking, a ticket or a review; the campaign call it
    answers; its evaluation."""
    intent = conversation.intent
    identity = caller_identity(data, values)
    machine = read_voicemail(data)
    if machine is not None:  # an answering machine took the call: nothing to act on, nothing to review
        intent = conversation.intent = None
    if intent in INTENTS:
        customer, why = find_or_create_customer(session=session, identity=identity)
    else:
        customer, why = find_customer(session=session, identity=identity), ""
    conversation.customer_id = customer.id if customer is not None else conversation.customer_id
    if conversation.customer_id is not None:
        bind_log(customer_id=conversation.customer_id)
    if machine is not None:
        conversation.outcome = "not_connected"
        conversation.title = conversation.title or ("Voicemail left" if machine == "voicemail_left" else "Voicemail")
    elif intent is None:
        _to_review(conversation, "The agent collected no intent for this call.")
    elif intent == "book_appointment":
        _book(session, conversation, customer, why, values)
    elif intent == "raise_ticket":
        _raise_ticket(session, conversation, customer, values)
    else:
        _to_review(conversation, f"Unknown intent '{intent}' (known: {', '.join(INTENTS)}).")

    phone_call = _dict(_dict(data.get("metadata")).get("phone_call"))
    call_sid = _text(phone_call.get("call_sid"), 64) if phone_call.get("direction") == "outbound" else ""
    _link_campaign_call(session, conversation, data, outcome=machine or "completed", provider_call_id=call_sid or None)
    conversation.goal_reached = goal_reached(conversation)
    _store_evaluation(session, conversation)


def _process_audio(session: Session, event: WebhookEvent, data: dict[str, Any]) -> Conversation | None:
    conversation = get_conversation_by_external_id(session=session, external_id=event.external_id)
    if conversation is None:
        return None  # the transcription, when it comes, picks the recording up from the inbox
    conversation.audio_path = event.media_path
    conversation.updated_at = utcnow()
    session.add(conversation)
    return conversation


def _process_initiation_failure(session: Session, data: dict[str, Any]) -> Conversation:
    reason = _text(data.get("failure_reason"), 60) or "unknown"
    outcome = initiation_failure_outcome(reason)
    metadata = _dict(data.get("metadata"))
    body = _dict(metadata.get("body"))
    call_sid = _text(body.get("CallSid") or body.get("call_sid"), 64) or None
    conversation = conversation_for(session=session, external_id=data["conversation_id"],
                                    agent_id=_text(data.get("agent_id"), 128) or None)
    conversation.status = "failed"
    conversation.outcome = "not_connected"
    conversation.direction = "outbound"
    conversation.title = "Call did not connect"
    conversation.summary = f"The outbound call never connected ({reason})."
    conversation.caller_phone = try_normalize_phone(_text(body.get("To"))) or conversation.caller_phone
    identity = CallerIdentity(customer_id=_int_or_none(dynamic_variables(data).get("customer_id")),
                              phones=[conversation.caller_phone] if conversation.caller_phone else [])
    customer = find_customer(session=session, identity=identity)
    conversation.customer_id = customer.id if customer is not None else None
    conversation.updated_at = utcnow()
    session.add(conversation)
    session.flush()
    _link_campaign_call(session, conversation, data, outcome=outcome, detail=reason, provider_call_id=call_sid)
    session.add(conversation)
    log.info("conversation.not_connected", conversation_id=conversation.id, reason=reason,
             campaign_call_id=conversation.campaign_call_id)
    return conversation


# --- finding calls ----------------------------------------------------------------------------


def get_conversation(*, session: Session, conversation_id: int) -> Conversation:
    """The conversation with this id. Raises NotFound."""
    return get_or_not_found(session, Conversation, conversation_id, "Conversation")


@dataclass
class ConversationFilter:
    """What the Conversations list (page, REST, CSV export) can be narrowed to."""

    external_id: str | None = None
    customer_id: int | None = None
    needs_review: bool | None = None
    outcome: str | None = None
    intent: str | None = None
    q: str | None = None
    evaluation_failed: bool | None = None
    handed_off: bool | None = None
    goal_reached: bool | None = None
    purpose: str | None = None  # the outbound call's purpose: "reminder", "campaign", "call_now"

    def conditions(self) -> list:
        """The SQL conditions on Conversation for the filters that are set (none: every conversation)."""
        conditions = []
        if self.external_id:
            conditions.append(Conversation.external_id == self.external_id)
        if self.customer_id is not None:
            conditions.append(Conversation.customer_id == self.customer_id)
        if self.needs_review is not None:
            conditions.append(Conversation.needs_review == self.needs_review)
        if self.outcome:
            if self.outcome not in OUTCOMES:
                raise ValidationFailed(f"Unknown outcome '{self.outcome}' (use one of: {', '.join(OUTCOMES)}).",
                                       field="outcome")
            conditions.append(Conversation.outcome == self.outcome)
        if self.intent:
            conditions.append(Conversation.intent == self.intent)
        if self.evaluation_failed is not None:
            conditions.append(Conversation.evaluation_failed == self.evaluation_failed)
        if self.handed_off is not None:
            conditions.append(Conversation.handed_off_at.is_not(None) if self.handed_off
                              else Conversation.handed_off_at.is_(None))
        if self.goal_reached is not None:
            conditions.append(Conversation.goal_reached == self.goal_reached)
        if self.purpose:
            from navaia_app.outreach.models import CampaignCall

            conditions.append(Conversation.campaign_call_id.in_(
                select(CampaignCall.id).where(CampaignCall.purpose == self.purpose[:20])))
        if self.q and self.q.strip():
            like = "%" + like_escape(self.q.strip().lower()) + "%"
            conditions.append(or_(func.lower(Conversation.summary).like(like, escape="\\"),
                                  func.lower(Conversation.title).like(like, escape="\\"),
                                  Conversation.external_id.like(like, escape="\\")))
        return conditions


CONVERSATION_ORDER = (sa.func.coalesce(Conversation.started_at, Conversation.created_at).desc(), Conversation.id.desc())


def list_conversations(
    *, session: Session, external_id: str | None = None, customer_id: int | None = None,
    needs_review: bool | None = None, outcome: str | None = None, intent: str | None = None,
    q: str | None = None, evaluation_failed: bool | None = None, handed_off: bool | None = None,
    goal_reached: bool | None = None, purpose: str | None = None, limit: int = 25, offset: int = 0,
) -> tuple[list[Conversation], int]:
    """One page of calls, newest first, and the total that match."""
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    conditions = ConversationFilter(external_id=external_id, customer_id=customer_id, needs_review=needs_review,
                                    outcome=outcome, intent=intent, q=q, evaluation_failed=evaluation_failed,
                                    handed_off=handed_off, goal_reached=goal_reached, purpose=purpose).conditions()
    items = list(session.exec(select(Conversation).where(*conditions).order_by(*CONVERSATION_ORDER)
                              .limit(limit).offset(offset)))
    total = session.exec(select(func.count()).select_from(Conversation).where(*conditions)).one()
    return items, total


def count_needs_review(*, session: Session) -> int:
    """How many calls wait for a person's review."""
    return session.exec(select(func.count()).select_from(Conversation)
                        .where(Conversation.needs_review == sa.true())).one()


# --- the review queue ---------------------------------------------------------------------------


def review_defaults(*, session: Session, conversation: Conversation) -> dict[str, str]:
    """What the review forms start from: everything the agent collected, in form fields."""
    values = conversation.data_collection or {}
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id else None
    zone = customer_zone(customer)
    starts = parse_appointment_time(values.get("appointment_datetime"), zone)
    minutes = parse_minutes(values.get("duration_minutes")) if "duration_minutes" in values else None
    return {
        "customer_name": customer.name if customer else _text(values.get("customer_name"), 120),
        "customer_phone": customer.phone if customer else (
            try_normalize_phone(_text(values.get("customer_phone"))) or conversation.caller_phone or ""),
        "customer_email": (customer.email or "") if customer else _text(values.get("customer_email"), 254),
        "service": _text(values.get("service"), 120),
        "starts_at": starts.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if starts else "",
        "timezone": zone.key,
        "duration_minutes": str(minutes or get_settings().booking_slot_minutes),
        "notes": _text(values.get("notes"), 4000),
        "title": _text(values.get("issue_summary"), 200) or conversation.title[:200],
        "description": _text(values.get("issue_details"), 10_000) or conversation.summary,
        "priority": normalize_priority(values.get("priority")),
        "category": _text(values.get("category"), 60),
    }


def _reviewable(session: Session, conversation_id: int) -> Conversation:
    conversation = get_conversation(session=session, conversation_id=conversation_id)
    if not conversation.needs_review:
        raise Conflict("This call is not waiting for review (someone may have handled it already).")
    return conversation


def _reviewed(conversation: Conversation, user_id: int | None, outcome: str) -> None:
    conversation.needs_review = False
    conversation.outcome = outcome
    conversation.reviewed_by_id = user_id
    conversation.reviewed_at = utcnow()
    conversation.updated_at = utcnow()
    conversation.goal_reached = goal_reached(conversation)


def _review_customer(session: Session, name: str, phone: str, email: str) -> Customer:
    phone_e164 = try_normalize_phone(phone)
    if phone.strip() and phone_e164 is None:
        raise ValidationFailed(f"'{phone.strip()}' is not a valid phone number.", field="customer_phone")
    identity = CallerIdentity(phones=[phone_e164] if phone_e164 else [], email=email.strip().lower() or None,
                              name=name.strip() or None)
    customer, why = find_or_create_customer(session=session, identity=identity)
    if customer is None:
        raise ValidationFailed(why, field="customer_phone")
    return customer


def book_from_call(
    *, session: Session, conversation_id: int, user_id: int | None, customer_name: str, customer_phone: str,
    customer_email: str = "", service: str, starts_at: str, duration_minutes: str | int | None = None,
    notes: str = "",
) -> Conversation:
    """Staff create the booking a reviewed call asked for; `starts_at` is local time in the customer's zone."""
    from navaia_app.bookings import service as bookings

    conversation = _reviewable(session, conversation_id)
    customer = _review_customer(session, customer_name, customer_phone, customer_email)
    when = parse_appointment_time(starts_at, customer_zone(customer))
    if when is None:
        raise ValidationFailed("Enter the date and time of the appointment.", field="starts_at")
    minutes = None if duration_minutes in (None, "") else parse_minutes(duration_minutes)
    if minutes is None and duration_minutes not in (None, ""):
        raise ValidationFailed("Duration must be a whole number of minutes.", field="duration_minutes")
    booking = bookings.create_booking(session=session, customer_id=customer.id, service=service, starts_at=when,
                                      duration_minutes=minutes, notes=notes, source="ai_call",
                                      conversation_id=conversation.id)
    conversation.customer_id = customer.id
    conversation.booking_id = booking.id
    _reviewed(conversation, user_id, "booking_created")
    session.add(conversation)
    bump(session, "conversations")
    log.info("conversation.reviewed", conversation_id=conversation.id, outcome="booking_created", user_id=user_id)
    return conversation


def ticket_from_call(
    *, session: Session, conversation_id: int, user_id: int | None, title: str, description: str = "",
    priority: str = "medium", category: str = "", customer_name: str = "", customer_phone: str = "",
    customer_email: str = "",
) -> Conversation:
    """Staff raise the ticket a reviewed call needed (the customer is optional for a ticket)."""
    from navaia_app.tickets import service as tickets

    conversation = _reviewable(session, conversation_id)
    customer = None
    if customer_phone.strip() or customer_email.strip():
        customer = _review_customer(session, customer_name, customer_phone, customer_email)
    elif conversation.customer_id:
        customer = session.get(Customer, conversation.customer_id)
    ticket = tickets.create_ticket(session=session, title=title, description=description, priority=priority,
                                   category=category, customer_id=customer.id if customer else None,
                                   source="ai_call", conversation_id=conversation.id)
    conversation.customer_id = customer.id if customer else conversation.customer_id
    conversation.ticket_id = ticket.id
    _reviewed(conversation, user_id, "ticket_created")
    session.add(conversation)
    bump(session, "conversations")
    log.info("conversation.reviewed", conversation_id=conversation.id, outcome="ticket_created", user_id=user_id)
    return conversation


def dismiss_review(*, session: Session, conversation_id: int, user_id: int | None, note: str = "") -> Conversation:
    """Take a call out of the review queue without acting on it (with an optional note, kept as its reason).
    Raises NotFound, or Conflict when the call is not waiting for review.
    """
    conversation = _reviewable(session, conversation_id)
    _reviewed(conversation, user_id, "dismissed")
    note = (note or "").strip()
    if note:
        conversation.review_reason = f"Dismissed: {note}"[:MAX_REASON]
    session.add(conversation)
    bump(session, "conversations")
    log.info("conversation.reviewed", conversation_id=conversation.id, outcome="dismissed", user_id=user_id)
    return conversation
