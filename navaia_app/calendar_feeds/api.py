"""Calendar feeds over HTTP: the signed-in user manages their feed URLs (`/api/v1/calendar-feeds`); calendar
apps fetch `/api/calendar/{token}.ics`, where the token in the URL is the credential."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field as PydanticField

from navaia_app.auth.deps import CurrentUser
from navaia_app.calendar_feeds import service
from navaia_app.core.api import DB, SIGNED_IN_ERRORS, problem
from navaia_app.core.schemas import InputSchema, OutputSchema
from navaia_app.core.types import DbInt

router = APIRouter(prefix="/api/v1/calendar-feeds", tags=["calendar feeds"], responses=SIGNED_IN_ERRORS)
feed_router = APIRouter(tags=["calendar feeds"])


class FeedIn(InputSchema):
    service: str | None = PydanticField(default=None, max_length=120,
                                        description="Only this service's bookings (omitted: every booking)")


class FeedOut(OutputSchema):
    id: int
    service: str | None
    created_at: datetime
    last_used_at: datetime | None


class FeedCreated(FeedOut):
    url: str = PydanticField(description="The private iCalendar URL: shown once, anyone holding it sees the bookings")


class FeedPage(BaseModel):
    items: list[FeedOut]
    total: int


@router.post("", response_model=FeedCreated, status_code=201,
             summary="A new private iCalendar URL (the previous one of the same scope stops working)")
def create_feed(body: FeedIn, user: CurrentUser, session: DB) -> FeedCreated:
    created = service.create_feed(session=session, user=user, service=body.service)
    return FeedCreated(**FeedOut.model_validate(created.feed).model_dump(), url=created.url)


@router.get("", response_model=FeedPage, summary="Your live calendar feeds")
def list_feeds(user: CurrentUser, session: DB) -> FeedPage:
    items = service.list_feeds(session=session, user=user)
    return FeedPage(items=items, total=len(items))


@router.delete("/{feed_id}", status_code=204, summary="Revoke a feed (its URL answers 404 from now on)",
               responses={404: problem("No such feed")})
def revoke_feed(feed_id: DbInt, user: CurrentUser, session: DB) -> None:
    service.revoke_feed(session=session, user=user, feed_id=feed_id)


@feed_router.get("/api/calendar/{token}.ics", summary="A private iCalendar feed of bookings (RFC 5545)",
                 response_class=Response,
                 responses={200: {"content": {"text/calendar": {"schema": {"type": "string"}}},
                                  "description": "The calendar"},
                            404: problem("Unknown or revoked feed"), 422: problem("Malformed token")})
def calendar_feed(session: DB, token: str = Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")) -> Response:
    body = service.render_feed(session=session, token=token)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"cache-control": "private, max-age=300", "x-robots-tag": "noindex"})
