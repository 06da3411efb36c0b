"""Tickets: every rule about raising, finding, moving and counting them.

The workflow is open -> in_progress -> resolved -> closed, and resolved or closed -> open (reopen);
every other move is refused. Every change of status, priority, assignee or category, and every
comment, writes an activity entry (who, when, from, to) in the same unit of work.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, case, func, select

from navaia_app.activity.service import ActivityView, delete_with_timeline, list_activity, record_activity
from navaia_app.auth.models import User
from navaia_app.core.db import get_or_not_found, row_exists
from navaia_app.core.errors import Conflict, ValidationFailed
from navaia_app.core.filters import any_of, equal_to, like_escape, one_of, page_bounds, time_range
from navaia_app.core.live import bump
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.core.zones import local_midnight
from navaia_app.core.validation import clean_text, patch_changes, raise_first
from navaia_app.customers.models import Customer
from navaia_app.webhooks_out import outbox
from navaia_app.tickets.models import SOURCES, TICKET_PRIORITIES, TICKET_STATUSES, Ticket, TicketOut, TicketPatch

log = get_logger(__name__)

OPEN_STATUSES = ("open", "in_progress")  # still needs someone's attention
DONE_STATUSES = ("resolved", "closed")
MAX_TITLE, MAX_DESCRIPTION, MAX_CATEGORY, MAX_COMMENT = 200, 10_000, 60, 4000
MAX_PAGE = 200
SMALL_RESULT = 2000  # matches few enough to sort instead of walking an index in order

STATUS_LABELS = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved", "closed": "Closed"}
PRIORITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "urgent": "Urgent"}
SOURCE_LABELS = {"manual": "Manual", "ai_call": "AI call", "api": "API"}
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "open": ("in_progress",),
    "in_progress": ("resolved",),
    "resolved": ("closed", "open"),
    "closed": ("open",),
}
_PRIORITY_RANK = case({"low": 0, "medium": 1, "high": 2, "urgent": 3}, value=Ticket.priority, else_=1)
_STATUS_RANK = case({"open": 0, "in_progress": 1, "resolved": 2, "closed": 3}, value=Ticket.status, else_=0)
SORTABLE = {"created_at": Ticket.created_at, "updated_at": Ticket.updated_at, "priority": _PRIORITY_RANK,
            "status": _STATUS_RANK, "title": func.lower(Ticket.title), "id": Ticket.id}
SUBJECT = "ticket"


# --- checks ----------------------------------------------------------------------------------------


def _one_of(value: str | None, allowed: tuple[str, ...], label: str) -> str:
    value = (value or "").strip().lower()
    if value not in allowed:
        raise ValueError(f"{label} must be one of: {', '.join(allowed)}.")
    return value



def _check_references(session: Session, customer_id: int | None, conversation_id: int | None) -> None:
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise ValidationFailed(f"Customer {customer_id} does not exist.", field="customer_id")
    if conversation_id is not None and not row_exists(session, "conversations", conversation_id):
        raise ValidationFailed(f"Conversation {conversation_id} does not exist.", field="conversation_id")


def _assignee(session: Session, assignee_id: int | None) -> User | None:
    if assignee_id is None:
        return None
    user = session.get(User, assignee_id)
    if user is None:
        raise ValidationFailed(f"User {assignee_id} does not exist.", field="assignee_id")
    if not user.is_active:
        raise ValidationFailed(f"{user.name} is deactivated and cannot be assigned tickets.", field="assignee_id")
    return user


def _clean_text(field: str, value: Any, limit: int, errors: dict[str, str], *, required: bool = False) -> str:
    return clean_text(value, limit, errors, field=field, label={"title": "Title", "description": "Description", "category": "Category"}[field], required=required)


def allowed_next_statuses(status: str) -> tuple[str, ...]:
    """The statuses a ticket in `status` may move to next."""
    return NEXT_STATUSES.get(status, ())


def check_transition(current: str, target: str) -> None:
    """Refuse any move the workflow does not allow, saying which moves it does allow."""
    if target == current or target in NEXT_STATUSES.get(current, ()):
        return
    allowed = " or ".join(STATUS_LABELS[s].lower() for s in NEXT_STATUSES.get(current, ()))
    raise Conflict(f"A ticket cannot go from {STATUS_LABELS[current].lower()} to {STATUS_LABELS[target].lower()}; "
                   f"from {STATUS_LABELS[current].lower()} it can only move to {allowed}.", field="status")


# --- create ----------------------------------------------------------------------------------------


def create_ticket(
    *, session: Session, title: str, description: str = "", priority: str = "medium", category: str = "",
    customer_id: int | None = None, source: str = "manual", conversation_id: int | None = None,
    status: str = "open", created_at: datetime | None = None, assignee_id: int | None = None,
    actor_id: int | None = None,
) -> Ticket:
    """Raise a ticket. `actor_id` is the person who raised it (None: the system or the AI agent)."""
    errors: dict[str, str] = {}
    title = _clean_text("title", title, MAX_TITLE, errors, required=True)
    description = _clean_text("description", description, MAX_DESCRIPTION, errors)
    category = _clean_text("category", category, MAX_CATEGORY, errors)
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
    raise_first(errors)
    _check_references(session, customer_id, conversation_id)
    _assignee(session, assignee_id)

    created = created_at or utcnow()
    ticket = Ticket(
        title=title, description=description, priority=clean["priority"], category=category,
        status=clean["status"], source=clean["source"], customer_id=customer_id,
        conversation_id=conversation_id, assignee_id=assignee_id, created_at=created, updated_at=created,
        resolved_at=created if clean["status"] in DONE_STATUSES else None,
    )
    session.add(ticket)
    session.flush()
    record_activity(session, subject_type=SUBJECT, subject_id=ticket.id, kind="created", actor_id=actor_id,
                    to_value=ticket.status, at=created)
    bump(session, "tickets")  # open pages reload
    outbox.emit_record(session, "ticket.created", TicketOut, ticket)  # same transaction: the outbox
    log.info("ticket.created", ticket_id=ticket.id, source=ticket.source, priority=ticket.priority,
             status=ticket.status, customer_id=customer_id, actor_id=actor_id)
    return ticket


# --- read ------------------------------------------------------------------------------------------


def get_ticket(*, session: Session, ticket_id: int) -> Ticket:
    """The ticket with this id. Raises NotFound."""
    return get_or_not_found(session, Ticket, ticket_id, "Ticket")



def _conditions(
    *, priority=None, customer_id=None, source=None, conversation_id=None, assignee_id=None,
    unassigned: bool = False, q: str | None = None, created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> list:
    conditions = [
        *one_of(Ticket.priority, priority, TICKET_PRIORITIES, "priority"),
        *one_of(Ticket.source, source, SOURCES, "source"),
        *equal_to((Ticket.customer_id, customer_id), (Ticket.conversation_id, conversation_id)),
    ]
    if unassigned:
        conditions.append(Ticket.assignee_id.is_(None))
    elif assignee_id is not None:
        conditions.append(Ticket.assignee_id == assignee_id)
    conditions += time_range(Ticket.created_at, ("created_from", created_from), ("created_to", created_to))
    if q and q.strip():
        # search_text is lower-cased by the database; SQLite's LIKE ignores (ASCII) case anyway.
        conditions.append(Ticket.search_text.like(f"%{like_escape(q.strip().lower()[:200])}%", escape="\\"))
    return conditions


def _page(
    session: Session, conditions: list, *, sort: str, descending: bool, limit: int, offset: int,
    expected: int | None = None,
) -> list[Ticket]:
    column = SORTABLE[sort]
    if expected is not None and expected <= SMALL_RESULT and sort in ("created_at", "updated_at") and conditions:
        # Few matches: find them through the filters' own indexes and sort them, instead of walking the whole
        # date index newest-first and testing every row (what a search with few results would cost otherwise).
        column = func.coalesce(column, column)
    order = [column.desc() if descending else column.asc()]
    if sort != "id":
        order.append(Ticket.id.desc() if descending else Ticket.id.asc())
    return list(session.exec(select(Ticket).where(*conditions).order_by(*order).limit(limit).offset(offset)))


def list_tickets(
    *, session: Session, status: str | Iterable[str] | None = None, customer_id: int | None = None,
    source: str | Iterable[str] | None = None, conversation_id: int | None = None, q: str | None = None,
    priority: str | Iterable[str] | None = None, assignee_id: int | None = None, unassigned: bool = False,
    created_from: datetime | None = None, created_to: datetime | None = None,
    sort: str = "created_at", descending: bool = True, limit: int = 25, offset: int = 0,
) -> tuple[list[Ticket], int]:
    """One page of tickets (newest first unless sorted otherwise) and the total that match.

    `created_from <= created_at < created_to`; `q` searches title and description.
    """
    items, total, _ = ticket_page(
        session=session, status=status, customer_id=customer_id, source=source, conversation_id=conversation_id,
        q=q, priority=priority, assignee_id=assignee_id, unassigned=unassigned, created_from=created_from,
        created_to=created_to, sort=sort, descending=descending, limit=limit, offset=offset, with_counts=False)
    return items, total


def ticket_page(
    *, session: Session, status: str | Iterable[str] | None = None, sort: str = "created_at",
    descending: bool = True, limit: int = 25, offset: int = 0, with_counts: bool = True, **filters,
) -> tuple[list[Ticket], int, dict[str, int]]:
    """What the Tickets page shows: one page, the total that match, and the count per status (its tabs) under
    the other filters. The counts and the total come from one pass over the matching rows."""
    limit, offset = page_bounds(sort, SORTABLE, limit, offset, MAX_PAGE)
    conditions = _conditions(**filters)
    statuses = any_of(status, TICKET_STATUSES, "status")
    if filters.get("q") and conditions:
        # A search reads every row once. When it finds few, that one pass gives the counts, the total and
        # the page (by id); when it finds many, the usual way below stops early on the date index.
        found = session.exec(select(Ticket.id, Ticket.status).where(*conditions).limit(SMALL_RESULT + 1)).all()
        if len(found) <= SMALL_RESULT:
            counts = dict.fromkeys(TICKET_STATUSES, 0)
            for _, found_status in found:
                counts[found_status] += 1
            ids = [i for i, found_status in found if statuses is None or found_status in statuses]
            if not ids:
                return [], 0, counts
            items = _page(session, [Ticket.id.in_(ids)], sort=sort, descending=descending, limit=limit,
                          offset=offset, expected=len(ids))
            return items, len(ids), counts
    counts: dict[str, int] = {}
    expected = None
    if with_counts or filters.get("q"):
        counts = _counts(session, conditions)
        expected = sum(counts[s] for s in (statuses or TICKET_STATUSES))
    if statuses is not None:
        conditions.append(Ticket.status.in_(statuses))
    if expected == 0:
        return [], 0, counts
    items = _page(session, conditions, sort=sort, descending=descending, limit=limit, offset=offset,
                  expected=expected)
    if expected is not None:
        total = expected
    elif offset == 0 and len(items) < limit:
        total = len(items)  # the whole result fits on this page: no count needed
    else:
        total = session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
    return items, total, counts


def _counts(session: Session, conditions: list) -> dict[str, int]:
    if not conditions:  # every ticket: the status index alone answers
        found = dict(session.exec(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
        return {status: int(found.get(status, 0)) for status in TICKET_STATUSES}
    # One count per status in a single pass; no GROUP BY, so the database is free to use the filters' indexes
    # (grouping invites SQLite to walk the status index and fetch every row).
    columns = [func.count(Ticket.id).filter(Ticket.status == status) for status in TICKET_STATUSES]
    row = session.exec(select(*columns).where(*conditions)).one()
    return {status: int(count or 0) for status, count in zip(TICKET_STATUSES, row, strict=True)}


def count_by_status(
    *, session: Session, customer_id: int | None = None, source=None, conversation_id: int | None = None,
    q: str | None = None, priority=None, assignee_id: int | None = None, unassigned: bool = False,
    created_from: datetime | None = None, created_to: datetime | None = None,
) -> dict[str, int]:
    """How many tickets of each status match the other filters (the tabs of the Tickets page)."""
    conditions = _conditions(priority=priority, customer_id=customer_id, source=source,
                             conversation_id=conversation_id, assignee_id=assignee_id, unassigned=unassigned,
                             q=q, created_from=created_from, created_to=created_to)
    return _counts(session, conditions)


def count_open_tickets(*, session: Session) -> int:
    """Tickets that still need attention: open or in progress."""
    return session.exec(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES))).one()


def list_categories(*, session: Session, limit: int = 50) -> list[str]:
    """The categories in use, most used first (suggestions for the New Ticket form)."""
    rows = session.exec(
        select(Ticket.category).where(Ticket.category != "").group_by(Ticket.category)
        .order_by(func.count().desc(), Ticket.category).limit(limit)
    )
    return list(rows)


@dataclass
class TicketDetail:
    ticket: Ticket
    customer: Customer | None
    assignee: User | None
    activity: list[ActivityView]


def get_ticket_detail(*, session: Session, ticket_id: int) -> TicketDetail:
    """A ticket with its customer, assignee and activity timeline, oldest first (the call that raised it, if
    any, is `ticket.conversation_id`). Raises NotFound."""
    ticket = get_ticket(session=session, ticket_id=ticket_id)
    return TicketDetail(
        ticket=ticket,
        customer=session.get(Customer, ticket.customer_id) if ticket.customer_id else None,
        assignee=session.get(User, ticket.assignee_id) if ticket.assignee_id else None,
        activity=ticket_activity(session=session, ticket_id=ticket.id),
    )


def ticket_activity(*, session: Session, ticket_id: int) -> list[ActivityView]:
    """The activity timeline of a ticket (who changed what, and comments), oldest first."""
    return list_activity(session, subject_type=SUBJECT, subject_id=ticket_id)


# --- change ----------------------------------------------------------------------------------------


def update_ticket(
    *, session: Session, ticket_id: int, patch: TicketPatch | dict[str, Any], actor_id: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Change the fields given (a TicketPatch's set fields, or a dict). Status moves through the workflow."""
    changes = patch_changes(patch, TicketPatch)
    ticket = get_or_not_found(session, Ticket, ticket_id, "Ticket", lock=True)
    now = now or utcnow()

    # Validate everything first: a refused change leaves the ticket exactly as it was.
    errors: dict[str, str] = {}
    new: dict[str, Any] = {}
    for field, limit in (("title", MAX_TITLE), ("description", MAX_DESCRIPTION), ("category", MAX_CATEGORY)):
        if field in changes:
            new[field] = _clean_text(field, changes[field], limit, errors, required=field == "title")
    for field, allowed, label in (("priority", TICKET_PRIORITIES, "Priority"), ("status", TICKET_STATUSES, "Status")):
        if field in changes and changes[field] is not None:
            try:
                new[field] = _one_of(changes[field], allowed, label)
            except ValueError as exc:
                errors[field] = str(exc)
        elif field in changes:
            errors[field] = f"{label} cannot be empty."
    raise_first(errors)
    if "customer_id" in changes:
        _check_references(session, changes["customer_id"], None)
        new["customer_id"] = changes["customer_id"]
    old_assignee = session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    if "assignee_id" in changes:
        new["assignee_id"] = changes["assignee_id"]
        new_assignee = _assignee(session, changes["assignee_id"]) if changes["assignee_id"] != ticket.assignee_id \
            else old_assignee
    if "status" in new:
        check_transition(ticket.status, new["status"])

    changed = {field: value for field, value in new.items() if getattr(ticket, field) != value}
    if not changed:
        return ticket
    if "customer_id" in changed:
        record_activity(session, subject_type=SUBJECT, subject_id=ticket.id, kind="customer", actor_id=actor_id,
                        from_value=_customer_label(session, ticket.customer_id),
                        to_value=_customer_label(session, changed["customer_id"]), at=now)
    for field in ("title", "description", "customer_id"):
        if field in changed:
            setattr(ticket, field, changed[field])
    if {"title", "description"} & set(changed):
        record_activity(session, subject_type=SUBJECT, subject_id=ticket.id, kind="edited", actor_id=actor_id,
                        body=", ".join(f for f in ("title", "description") if f in changed), at=now)
    for field in ("priority", "category"):
        if field in changed:
            record_activity(session, subject_type=SUBJECT, subject_id=ticket.id, kind=field, actor_id=actor_id,
                            from_value=getattr(ticket, field) or None, to_value=changed[field] or None, at=now)
            setattr(ticket, field, changed[field])
    if "assignee_id" in changed:
        record_activity(session, subject_type=SUBJECT, subject_id=ticket.id, kind="assignee", actor_id=actor_id,
                        from_value=old_assignee.name if old_assignee else None,
                        to_value=new_assignee.name if new_assignee else None, at=now)
        ticket.assignee_id = changed["assignee_id"]
    if "status" in changed:
        record_activity(session, subject_type=SUBJECT, subject_id=ticket.id, kind="status", actor_id=actor_id,
                        from_value=ticket.status, to_value=changed["status"], at=now)
        previous, ticket.status = ticket.status, changed["status"]
        if ticket.status == "open":
            ticket.resolved_at = None  # reopened
        elif ticket.status in DONE_STATUSES and ticket.resolved_at is None:
            ticket.resolved_at = now
        log.info("ticket.status_changed", ticket_id=ticket.id, from_status=previous, to_status=ticket.status,
                 actor_id=actor_id)
    ticket.updated_at = now
    session.add(ticket)
    session.flush()
    bump(session, "tickets")
    outbox.emit_record(session, "ticket.updated", TicketOut, ticket, changed=sorted(changed))
    log.info("ticket.updated", ticket_id=ticket.id, fields=sorted(changed), actor_id=actor_id)
    return ticket


def _customer_label(session: Session, customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    customer = session.get(Customer, customer_id)
    return customer.name if customer else f"#{customer_id}"


def change_ticket_status(
    *, session: Session, ticket_id: int, status: str, actor_id: int | None = None, now: datetime | None = None,
) -> Ticket:
    """Move a ticket through the workflow; a move it does not allow is refused (Conflict) with the reason."""
    return update_ticket(session=session, ticket_id=ticket_id, patch={"status": status}, actor_id=actor_id, now=now)


def assign_ticket(*, session: Session, ticket_id: int, assignee_id: int | None, actor_id: int | None = None) -> Ticket:
    """Give a ticket to a user (or to nobody with None), recorded on its timeline. Raises what update_ticket
    raises (NotFound, ValidationFailed for an unknown or inactive user).
    """
    return update_ticket(session=session, ticket_id=ticket_id, patch={"assignee_id": assignee_id}, actor_id=actor_id)


def set_ticket_priority(*, session: Session, ticket_id: int, priority: str, actor_id: int | None = None) -> Ticket:
    """Change a ticket's priority, recorded on its timeline. Raises what update_ticket raises (NotFound,
    ValidationFailed).
    """
    return update_ticket(session=session, ticket_id=ticket_id, patch={"priority": priority}, actor_id=actor_id)


def add_comment(*, session: Session, ticket_id: int, body: str, actor_id: int | None = None):
    """A comment on the ticket's timeline."""
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Write a comment first.", field="body")
    if len(body) > MAX_COMMENT:
        raise ValidationFailed(f"The comment is too long ({MAX_COMMENT:,} characters at most).", field="body")
    ticket = get_or_not_found(session, Ticket, ticket_id, "Ticket", lock=True)
    now = utcnow()
    entry = record_activity(session, subject_type=SUBJECT, subject_id=ticket.id, kind="comment", actor_id=actor_id,
                            body=body, at=now)
    ticket.updated_at = now
    session.add(ticket)
    session.flush()
    bump(session, "tickets")
    outbox.emit_record(session, "ticket.updated", TicketOut, ticket, changed=["comments"])
    log.info("ticket.commented", ticket_id=ticket.id, actor_id=actor_id)
    return entry


def delete_ticket(*, session: Session, ticket_id: int, actor=None) -> None:
    """Delete a ticket and its timeline; the call that raised it stays, unlinked; audited (`ticket.deleted`).
    Raises NotFound.
    """
    ticket = get_ticket(session=session, ticket_id=ticket_id)
    delete_with_timeline(session, ticket, subject_type=SUBJECT, table="tickets", actor=actor)


# --- figures for the dashboard -----------------------------------------------------------------------


def tickets_by_status(*, session: Session) -> dict[str, int]:
    """How many tickets are in each status (every status present, 0 when none)."""
    return count_by_status(session=session)


def ticket_volume(*, session: Session, now: datetime, zone: ZoneInfo, days: int = 30) -> list[tuple[date, int]]:
    """Tickets created per day (in `zone`) over the last `days` days, today included, oldest first."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = local_midnight(first, zone).astimezone(timezone.utc)
    tomorrow = today + timedelta(days=1)
    end = local_midnight(tomorrow, zone).astimezone(timezone.utc)
    counts = dict.fromkeys((first + timedelta(days=i) for i in range(days)), 0)
    for day, count in _count_per_local_day(session, Ticket.created_at, start, end, zone):
        if day in counts:
            counts[day] += count
    return sorted(counts.items())


def _count_per_local_day(session: Session, column, start: datetime, end: datetime, zone: ZoneInfo,
                         extra: Iterable = ()) -> list[tuple[date, int]]:
    """Rows with start <= column < end, counted per day in `zone`.

    PostgreSQL groups by the local date itself. SQLite has no time zones: it groups by UTC
    quarter-hour (every zone's offset is a multiple of 15 minutes) and Python maps those to local days.
    """
    where = [column >= start, column < end, *extra]
    if session.get_bind().dialect.name == "postgresql":
        local_day = sa.func.date(sa.func.timezone(zone.key, column))
        rows = session.exec(select(local_day, func.count()).where(*where).group_by(local_day))
        return [(day, int(count)) for day, count in rows]
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" UTC text; hour and minute/15 make the bucket. Each bucket
    # falls in the local day whose midnight (in UTC, to the quarter hour) comes last before it.
    quarter = sa.cast(sa.cast(sa.func.substr(column, 15, 2), sa.Integer) // 15, sa.String)
    bucket = sa.func.substr(column, 1, 14, type_=sa.String).concat(quarter)
    rows = session.exec(select(bucket, func.count()).where(*where).group_by(bucket))
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    midnights = [local_midnight(d, zone).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
                 for d in days]
    out: dict[date, int] = {}
    for key, count in rows:
        index = bisect.bisect_right(midnights, f"{key[:14]}{int(key[14:] or 0) * 15:02d}") - 1
        if index >= 0:
            out[days[index]] = out.get(days[index], 0) + int(count)
    return sorted(out.items())
