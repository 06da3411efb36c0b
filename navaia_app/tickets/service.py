"""Tickets: every rule about raising, finding and counting them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, func, or_, select

from navaia_app.conversations.models import Conversation
from navaia_app.core.errors import NotFound, ValidationFailed
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.tickets.models import SOURCES, TICKET_PRIORITIES, TICKET_STATUSES, Ticket

log = get_logger(__name__)

OPEN_STATUSES = ("open", "in_progress")  # still needs someone's attention
DONE_STATUSES = ("resolved", "closed")
MAX_TITLE, MAX_DESCRIPTION, MAX_CATEGORY = 200, 10_000, 60
MAX_PAGE = 200


def _one_of(value: str | None, allowed: tuple[str, ...], label: str) -> str:
    value = (value or "").strip().lower()
    if value not in allowed:
        raise ValueError(f"{label} must be one of: {', '.join(allowed)}.")
    return value


def _any_of(value: str | Iterable[str] | None, allowed: tuple[str, ...], field: str) -> list[str] | None:
    """A filter given as one value or several; None when not filtering."""
    if value is None or value == "":
        return None
    values = [value] if isinstance(value, str) else list(value)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationFailed(f"Unknown {field} {unknown[0]!r} (use one of: {', '.join(allowed)}).", field=field)
    return values


def _check_references(session: Session, customer_id: int | None, conversation_id: int | None) -> None:
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise ValidationFailed(f"Customer {customer_id} does not exist.", field="customer_id")
    if conversation_id is not None and session.get(Conversation, conversation_id) is None:
        raise ValidationFailed(f"Conversation {conversation_id} does not exist.", field="conversation_id")


def create_ticket(
    *, session: Session, title: str, description: str = "", priority: str = "medium", category: str = "",
    customer_id: int | None = None, source: str = "manual", conversation_id: int | None = None,
    status: str = "open", created_at: datetime | None = None,
) -> Ticket:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "Title is required."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Title is too long ({MAX_TITLE} characters at most)."
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Description is too long ({MAX_DESCRIPTION:,} characters at most)."
    category = (category or "").strip()
    if len(category) > MAX_CATEGORY:
        errors["category"] = f"Category is too long ({MAX_CATEGORY} characters at most)."
    clean: dict[str, str] = {}
    for field, value, allowed, label in (
        ("priority", priority, TICKET_PRIORITIES, "Priority"),
        ("status", status, TICKET_STATUSES, "Status"),
        ("source", source, SOURCES, "Source"),
    ):
        try:
            clean[field] = _one_of(value, allowed, label)
        except ValueError as exc:
            errors[field] = str(exc)
    if created_at is not None and (not isinstance(created_at, datetime) or created_at.tzinfo is None):
        errors["created_at"] = "Creation time must be a date and time with a time zone."
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(errors[first], field=first, errors=errors)
    _check_references(session, customer_id, conversation_id)

    created = created_at or utcnow()
    ticket = Ticket(
        title=title, description=description, priority=clean["priority"], category=category,
        status=clean["status"], source=clean["source"], customer_id=customer_id,
        conversation_id=conversation_id, created_at=created, updated_at=created,
        resolved_at=created if clean["status"] in DONE_STATUSES else None,
    )
    session.add(ticket)
    session.flush()
    bump(session, "tickets")  # open pages reload
    log.info("ticket.created", ticket_id=ticket.id, source=ticket.source, priority=ticket.priority,
             status=ticket.status, customer_id=customer_id)
    return ticket


def get_ticket(*, session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found.")
    return ticket


def list_tickets(
    *, session: Session, status: str | Iterable[str] | None = None, customer_id: int | None = None,
    source: str | None = None, conversation_id: int | None = None, q: str | None = None,
    limit: int = 25, offset: int = 0,
) -> tuple[list[Ticket], int]:
    """One page of tickets, newest first, and the total that match."""
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    conditions = []
    statuses = _any_of(status, TICKET_STATUSES, "status")
    if statuses is not None:
        conditions.append(Ticket.status.in_(statuses))
    sources = _any_of(source, SOURCES, "source")
    if sources is not None:
        conditions.append(Ticket.source.in_(sources))
    if customer_id is not None:
        conditions.append(Ticket.customer_id == customer_id)
    if conversation_id is not None:
        conditions.append(Ticket.conversation_id == conversation_id)
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        conditions.append(or_(func.lower(Ticket.title).like(like), func.lower(Ticket.description).like(like)))
    stmt = select(Ticket).where(*conditions).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    items = list(session.exec(stmt.limit(limit).offset(offset)))
    total = session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
    return items, total


def count_open_tickets(*, session: Session) -> int:
    """Tickets that still need attention: open or in progress."""
    return session.exec(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES))).one()
