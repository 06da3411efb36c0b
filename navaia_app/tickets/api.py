from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from navaia_app.auth.deps import CurrentUser
from navaia_app.core.api import DB, Page, SIGNED_IN_ERRORS, problem
from navaia_app.core.types import DB_INT_MAX, DbInt
from navaia_app.tickets import service
from navaia_app.tickets.models import (ActivityOut, CommentIn, Source, TicketIn, TicketOut, TicketPatch,
                                       TicketPriority, TicketStatus)

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], responses=SIGNED_IN_ERRORS)

NOT_FOUND = {404: problem("No such ticket")}


TicketPage = Page[TicketOut]


def _activity_out(view) -> ActivityOut:
    e = view.entry
    return ActivityOut(id=e.id, kind=e.kind, actor_id=e.actor_id, actor_name=view.actor_name or None,
                       from_value=e.from_value, to_value=e.to_value, body=e.body, created_at=e.created_at)


@router.get("", response_model=TicketPage, summary="List tickets (paginated, filtered, searchable)")
def list_tickets(
    user: CurrentUser, session: DB,
    status: list[TicketStatus] | None = Query(None, description="Repeat for several: ?status=open&status=in_progress"),
    priority: list[TicketPriority] | None = Query(None), source: list[Source] | None = Query(None),
    customer_id: DbInt | None = None, conversation_id: DbInt | None = None,
    assignee_id: DbInt | None = None, unassigned: bool = Query(False, description="Only tickets nobody is assigned"),
    created_from: AwareDatetime | None = Query(None, description="created_at >= this (ISO 8601 with offset)"),
    created_to: AwareDatetime | None = Query(None, description="created_at < this (ISO 8601 with offset)"),
    q: str | None = Query(None, max_length=200, description="Search in title and description"),
    sort: Literal["created_at", "updated_at", "priority", "status", "title", "id"] = "created_at",
    desc: bool = Query(True, description="Newest (or highest) first"),
    limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> TicketPage:
    items, total = service.list_tickets(
        session=session, status=status, priority=priority, source=source, customer_id=customer_id,
        conversation_id=conversation_id, assignee_id=assignee_id, unassigned=unassigned, created_from=created_from,
        created_to=created_to, q=q, sort=sort, descending=desc, limit=limit, offset=offset)
    return TicketPage(items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=TicketOut, status_code=201, summary="Raise a ticket (source `api` unless given)",
             responses={422: problem("Invalid field")})
def create_ticket(body: TicketIn, user: CurrentUser, session: DB) -> TicketOut:
    return service.create_ticket(session=session, actor_id=user.id, **body.model_dump())


@router.get("/{ticket_id}", response_model=TicketOut, summary="One ticket", responses=NOT_FOUND)
def get_ticket(ticket_id: DbInt, user: CurrentUser, session: DB) -> TicketOut:
    return service.get_ticket(session=session, ticket_id=ticket_id)


@router.patch("/{ticket_id}", response_model=TicketOut, summary="Change a ticket (status through its workflow)",
              responses={**NOT_FOUND, 409: problem("The workflow does not allow that status change"),
                         422: problem("Invalid field")})
def update_ticket(ticket_id: DbInt, body: TicketPatch, user: CurrentUser, session: DB) -> TicketOut:
    return service.update_ticket(session=session, ticket_id=ticket_id, patch=body, actor_id=user.id)


@router.delete("/{ticket_id}", status_code=204, summary="Delete a ticket and its timeline", responses=NOT_FOUND)
def delete_ticket(ticket_id: DbInt, user: CurrentUser, session: DB) -> None:
    service.delete_ticket(session=session, ticket_id=ticket_id, actor=user)


@router.get("/{ticket_id}/activity", response_model=list[ActivityOut], summary="The ticket's timeline, oldest first",
            responses=NOT_FOUND)
def ticket_activity(ticket_id: DbInt, user: CurrentUser, session: DB) -> list[ActivityOut]:
    service.get_ticket(session=session, ticket_id=ticket_id)
    return [_activity_out(v) for v in service.ticket_activity(session=session, ticket_id=ticket_id)]


@router.post("/{ticket_id}/comments", response_model=ActivityOut, status_code=201, summary="Comment on a ticket",
             responses=NOT_FOUND)
def add_comment(ticket_id: DbInt, body: CommentIn, user: CurrentUser, session: DB) -> ActivityOut:
    entry = service.add_comment(session=session, ticket_id=ticket_id, body=body.body, actor_id=user.id)
    return ActivityOut(id=entry.id, kind=entry.kind, actor_id=entry.actor_id, actor_name=user.name,
                       from_value=None, to_value=None, body=entry.body, created_at=entry.created_at)
