"""A customer's rights over their data: everything we hold about them (export), and its erasure.

Erasure keeps the records that figures are made of (bookings, tickets, calls: their dates, statuses,
durations, services) and removes what identifies the person:
- the customer row is anonymised ("Erased customer", no email, no notes, a phone that is no number, never
  called again) and marked erased; its id stays, so counts and charts do not move;
- their bookings lose their notes, their tickets their title, description and comments, their calls the
  transcript, summary, collected values, caller number and the recording (the file is deleted), and the
  stored post-call webhooks of those calls their payload and recording (the rows stay, so a redelivery of
  the same webhook is still recognised and cannot bring the data back);
- campaign audiences drop their rows about the person, campaign calls their variables;
- outgoing webhook payloads, delivery log excerpts, audit details and activity entries about them are
  scrubbed; then every text column of every table is searched for their phone number and email (which
  are theirs alone) and scrubbed wherever they still appear;
- one audit line says that an erasure happened (customer id, who, counts), without any identifier.
Their name is scrubbed only in what is linked to them: another customer may share it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from navaia_app.activity.models import ActivityEntry
from navaia_app.audit import service as audit
from navaia_app.audit.models import AuditEntry
from navaia_app.auth.permissions import require
from navaia_app.bookings.models import Booking, BookingOut
from navaia_app.campaigns.models import CallStatusEvent, Campaign, CampaignCall, CampaignCallOut
from navaia_app.conversations import webhook as inbound
from navaia_app.conversations.models import Conversation, ConversationOut, WebhookEvent
from navaia_app.core.errors import Conflict, NotFound
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer, CustomerOut
from navaia_app.tickets.models import Ticket, TicketOut
from navaia_app.webhooks_out.models import OutgoingEvent, WebhookDeliveryAttempt

log = get_logger(__name__)

ERASED = "[erased]"
ERASED_NAME = "Erased customer"
EXPORT_VERSION = 1
# Tables handled by name above; any other table with a customer_id or booking_id column (reminders, and
# whatever comes next) is exported and scrubbed generically.
KNOWN_TABLES = {"customers", "bookings", "tickets", "conversations", "webhook_events", "campaign_calls",
                "activity_entries", "audit_entries", "outgoing_events"}


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found.")
    return customer


def _identifiers(customer: Customer) -> tuple[list[str], list[str]]:
    """(unique ones: phone forms and email, searched everywhere; the name, searched in linked rows)."""
    unique: list[str] = []
    if customer.phone and customer.phone.startswith("+"):
        digits = customer.phone[1:]
        unique += [customer.phone, digits]
        try:
            import phonenumbers

            national = str(phonenumbers.parse(customer.phone).national_number)
            if len(national) >= 6:
                unique.append(national)
        except Exception:
            pass
    if customer.email:
        unique.append(customer.email)
    names = [customer.name] if customer.name and len(customer.name.strip()) >= 3 else []
    return list(dict.fromkeys(unique)), names


def _scrub(value: Any, needles: list[str]) -> Any:
    """The value with every needle (case-insensitive) replaced; walks JSON structures."""
    if isinstance(value, str):
        for needle in needles:
            value = re.sub(re.escape(needle), ERASED, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value


def _contains(value: Any, needles: list[str]) -> bool:
    text = (value if isinstance(value, str) else json.dumps(value, default=str)).lower()
    return any(n.lower() in text for n in needles)


# --- what we hold ----------------------------------------------------------------------------------


@dataclass
class Holdings:
    customer: Customer
    bookings: list[Booking]
    tickets: list[Ticket]
    conversations: list[Conversation]
    calls: list[CampaignCall]
    inbound: list[WebhookEvent]


def _holdings(session: Session, customer: Customer) -> Holdings:
    conversations = list(session.exec(select(Conversation).where(sa.or_(
        Conversation.customer_id == customer.id,
        Conversation.caller_phone == customer.phone)).order_by(Conversation.id)))
    conversation_ids = [c.id for c in conversations]
    external_ids = [c.external_id for c in conversations]
    inbound_rows = list(session.exec(select(WebhookEvent).where(sa.or_(
        WebhookEvent.conversation_id.in_(conversation_ids or [-1]),
        WebhookEvent.external_id.in_(external_ids or [""]))).order_by(WebhookEvent.id))) if conversations else []
    return Holdings(
        customer=customer,
        bookings=list(session.exec(select(Booking).where(Booking.customer_id == customer.id).order_by(Booking.id))),
        tickets=list(session.exec(select(Ticket).where(Ticket.customer_id == customer.id).order_by(Ticket.id))),
        conversations=conversations,
        calls=list(session.exec(select(CampaignCall).where(CampaignCall.customer_id == customer.id)
                                .order_by(CampaignCall.id))),
        inbound=inbound_rows,
    )


def _other_tables(session: Session, held: Holdings) -> dict[str, list[dict[str, Any]]]:
    """Rows of the tables this module does not know by name that point at the customer or their bookings."""
    found: dict[str, list[dict[str, Any]]] = {}
    booking_ids = [b.id for b in held.bookings]
    for table in SQLModel.metadata.sorted_tables:
        if table.name in KNOWN_TABLES:
            continue
        conditions = []
        if "customer_id" in table.c:
            conditions.append(table.c.customer_id == held.customer.id)
        if "booking_id" in table.c and booking_ids:
            conditions.append(table.c.booking_id.in_(booking_ids))
        if not conditions:
            continue
        rows = session.execute(sa.select(table).where(sa.or_(*conditions))).mappings().all()
        if rows:
            found[table.name] = [dict(row) for row in rows]
    return found


def _audit_about(session: Session, held: Holdings) -> list[AuditEntry]:
    targets = [("customer", held.customer.id)] + [("booking", b.id) for b in held.bookings] + \
              [("ticket", t.id) for t in held.tickets] + [("conversation", c.id) for c in held.conversations]
    conditions = [sa.and_(AuditEntry.target_type == kind, AuditEntry.target_id == str(tid)) for kind, tid in targets]
    return list(session.exec(select(AuditEntry).where(sa.or_(*conditions)).order_by(AuditEntry.id)))


def _activity_about(session: Session, held: Holdings) -> list[ActivityEntry]:
    conditions = []
    if held.tickets:
        conditions.append(sa.and_(ActivityEntry.subject_type == "ticket",
                                  ActivityEntry.subject_id.in_([t.id for t in held.tickets])))
    if held.bookings:
        conditions.append(sa.and_(ActivityEntry.subject_type == "booking",
                                  ActivityEntry.subject_id.in_([b.id for b in held.bookings])))
    if not conditions:
        return []
    return list(session.exec(select(ActivityEntry).where(sa.or_(*conditions)).order_by(ActivityEntry.id)))


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def export_customer(*, session: Session, actor, customer_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Everything held about a customer, as one JSON document (audited)."""
    require(actor, "export_customer")
    customer = _customer(session, customer_id)
    held = _holdings(session, customer)
    now = now or utcnow()
    recordings = [{"conversation_id": c.id, "file": f"recordings/conversation-{c.id}.mp3"}
                  for c in held.conversations if c.audio_path and inbound.audio_path(c.audio_path)]
    document = {
        "export_version": EXPORT_VERSION,
        "exported_at": now.isoformat(),
        "customer": {**CustomerOut.model_validate(customer).model_dump(mode="json"), "erased_at":
                     customer.erased_at.isoformat() if customer.erased_at else None},
        "bookings": [BookingOut.model_validate(b).model_dump(mode="json") for b in held.bookings],
        "tickets": [TicketOut.model_validate(t).model_dump(mode="json") for t in held.tickets],
        "conversations": [{**ConversationOut.model_validate(c).model_dump(mode="json"), "has_audio": bool(c.audio_path)}
                          for c in held.conversations],
        "campaign_calls": [CampaignCallOut.model_validate(c).model_dump(mode="json") for c in held.calls],
        "activity": [_jsonable(e.model_dump()) for e in _activity_about(session, held)],
        "audit_entries": [_jsonable(e.model_dump()) for e in _audit_about(session, held)],
        "other": {name: [_jsonable(r) for r in rows] for name, rows in _other_tables(session, held).items()},
        "recordings": recordings,
    }
    audit.record(session, action="customer.exported", actor=actor, target_type="customer", target_id=customer_id,
                 detail={"bookings": len(held.bookings), "tickets": len(held.tickets),
                         "conversations": len(held.conversations), "recordings": len(recordings)})
    log.info("customer.exported", customer_id=customer_id, conversations=len(held.conversations))
    return document


def export_zip(*, session: Session, actor, customer_id: int) -> bytes:
    """The export as a ZIP: `customer.json` and the call recordings under `recordings/`."""
    document = export_customer(session=session, actor=actor, customer_id=customer_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(document, indent=2, ensure_ascii=False, default=str))
        for item in document["recordings"]:
            conversation = session.get(Conversation, item["conversation_id"])
            path = inbound.audio_path(conversation.audio_path) if conversation and conversation.audio_path else None
            if path is not None:
                archive.write(path, item["file"], compress_type=zipfile.ZIP_STORED)  # MP3 does not shrink
    return buffer.getvalue()


# --- erasure -----------------------------------------------------------------------------------------


def _delete_file(relative: str | None, removed: list[str]) -> None:
    path = inbound.audio_path(relative) if relative else None
    if path is not None:
        path.unlink(missing_ok=True)
        removed.append(relative)


def erase_customer(*, session: Session, actor, customer_id: int, now: datetime | None = None) -> dict[str, int]:
    """Remove or anonymise everything that identifies the customer (see the module); returns counts."""
    require(actor, "erase_customer")
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found.")
    if customer.erased_at is not None:
        raise Conflict("This customer was erased already.")
    now = now or utcnow()
    unique, names = _identifiers(customer)
    needles = unique + names
    held = _holdings(session, customer)
    counts: dict[str, int] = {}
    files: list[str] = []

    for booking in held.bookings:
        booking.notes = ""
        session.add(booking)
    counts["bookings"] = len(held.bookings)
    for ticket in held.tickets:
        ticket.title, ticket.description = f"{ERASED} (ticket of an erased customer)", ""
        session.add(ticket)
    counts["tickets"] = len(held.tickets)
    for entry in _activity_about(session, held):
        if entry.subject_type == "ticket" and entry.kind in ("comment", "edited"):
            entry.body = ERASED if entry.body else ""
        entry.from_value, entry.to_value, entry.body = (_scrub(entry.from_value, needles),
                                                        _scrub(entry.to_value, needles), _scrub(entry.body, needles))
        session.add(entry)
    for conversation in held.conversations:
        _delete_file(conversation.audio_path, files)
        conversation.transcript, conversation.data_collection = [], {}
        conversation.summary, conversation.title = "", ERASED
        conversation.caller_phone, conversation.audio_path, conversation.review_reason = None, None, None
        conversation.updated_at = now
        session.add(conversation)
    counts["conversations"] = len(held.conversations)
    for event in held.inbound:
        _delete_file(event.media_path, files)
        # the row stays (same key): a redelivered webhook is recognised and cannot bring the data back
        event.payload, event.media_path, event.last_error = json.dumps({"erased": True}), None, None
        if event.status == "pending":
            event.status, event.processed_at = "processed", now
        session.add(event)
    counts["recordings"] = len(files)
    for call in held.calls:
        call.variables, call.last_detail = {}, _scrub(call.last_detail, needles)
        session.add(call)
    counts["campaign_calls"] = len(held.calls)
    counts["campaign_audiences"] = _scrub_audiences(session, customer, unique)

    counts["outgoing_events"] = _scrub_outgoing(session, customer.id, needles)
    for entry in _audit_about(session, held):
        entry.detail = _scrub(entry.detail, needles)
        session.add(entry)
    counts["other_rows"] = _scrub_other_tables(session, held, needles)

    customer.name, customer.email, customer.notes = ERASED_NAME, None, ""
    customer.phone = f"erased-{customer.id}"  # unique, and no number: never dialled again
    customer.do_not_call, customer.erased_at, customer.updated_at = True, now, now
    session.add(customer)
    session.flush()
    counts["leftover_cells"] = scrub_everywhere(session, unique)
    bump(session, "customers", "tickets", "bookings", "conversations")
    audit.record(session, action="customer.erased", actor=actor, target_type="customer", target_id=customer_id,
                 detail=counts)
    log.info("customer.erased", customer_id=customer_id, **counts)
    return counts


def _scrub_audiences(session: Session, customer: Customer, unique: list[str]) -> int:
    changed = 0
    if not unique:
        return 0
    for campaign in session.exec(select(Campaign)):
        audience = campaign.audience or {}
        rows = audience.get("rows") or []
        kept = [row for row in rows if not _contains(row, unique)]
        if len(kept) != len(rows):
            campaign.audience = {**audience, "rows": kept}
            session.add(campaign)
            changed += 1
    return changed


def _scrub_outgoing(session: Session, customer_id: int, needles: list[str]) -> int:
    """Outgoing webhook payloads about the customer (pending ones then go out scrubbed) and log excerpts."""
    like = [OutgoingEvent.payload.like(f'%"customer_id":{customer_id}{end}%') for end in (",", "}")]
    like += [OutgoingEvent.payload.ilike(f"%{n}%") for n in needles]
    changed = 0
    for event in session.exec(select(OutgoingEvent).where(sa.or_(*like))):
        body = json.loads(event.payload)
        data = body.get("data") or {}
        if data.get("customer_id") == customer_id:
            for field in ("notes", "description", "title", "summary", "transcript", "review_reason"):
                if field in data:
                    data[field] = ERASED if isinstance(data[field], str) and data[field] else data[field]
        body["data"] = _scrub(data, needles)
        event.payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        session.add(event)
        changed += 1
    for attempt in session.exec(select(WebhookDeliveryAttempt).where(
            sa.or_(*[WebhookDeliveryAttempt.response_excerpt.ilike(f"%{n}%") for n in needles]))):
        attempt.response_excerpt = _scrub(attempt.response_excerpt, needles)
        session.add(attempt)
    return changed


def _scrub_other_tables(session: Session, held: Holdings, needles: list[str]) -> int:
    changed = 0
    for name, rows in _other_tables(session, held).items():
        table = SQLModel.metadata.tables[name]
        keys = [c.name for c in table.primary_key.columns]
        for row in rows:
            new = {col: _scrub(value, needles) for col, value in row.items()
                   if isinstance(value, (str, dict, list)) and col not in keys and _contains(value, needles)}
            if new:
                session.execute(sa.update(table).where(*[table.c[k] == row[k] for k in keys]).values(**new))
                changed += 1
    return changed


def scrub_everywhere(session: Session, needles: list[str]) -> int:
    """Search every text and JSON column of every table for the needles and scrub the cells found.
    Returns the number of cells changed (0 when the targeted steps caught everything)."""
    if not needles:
        return 0
    changed = 0
    for table in SQLModel.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if not keys:
            continue
        for column in table.columns:
            if column.primary_key or not isinstance(column.type, (sa.String, sa.Text, sa.JSON)):
                continue
            text = sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) else column
            condition = sa.or_(*[sa.func.lower(text).like(f"%{n.lower()}%") for n in needles])
            for row in session.execute(sa.select(*keys, column).where(condition)).all():
                value = row[-1]
                session.execute(sa.update(table).where(*[k == row[i] for i, k in enumerate(keys)])
                                .values({column.name: _scrub(value, needles)}))
                changed += 1
    return changed
