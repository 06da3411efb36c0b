"""REST API of call analytics and the CSV exports. Thin: the figures live in service.py, the rows in exports.py.

The exports take a bearer token or the web app's session cookie (the pages link to them for download).

Mounted before the conversations router: `/api/v1/conversations/export.csv` must not be read as a
conversation id."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from navaia_app.analytics import exports, service
from navaia_app.auth.deps import CurrentUser
from navaia_app.campaigns import service as campaigns
from navaia_app.conversations.api import Viewer
from navaia_app.conversations.service import ConversationFilter
from navaia_app.core.api import DB, SIGNED_IN_ERRORS, problem
from navaia_app.core.types import DbInt, utcnow

router = APIRouter(tags=["analytics"], responses=SIGNED_IN_ERRORS)

PERIOD_HELP = ("YYYY-MM-DD (a whole day in the business time zone; the end day is included) or an ISO 8601 "
               "date and time")
CSV = {200: {"content": {"text/csv": {}}, "description": "CSV with a header row; formula-like cells start with '"}}


def _csv(lines, name: str) -> StreamingResponse:
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})


@router.get("/api/v1/analytics/campaigns/{campaign_id}", summary="One campaign's figures",
            description="Funnel counts (`dialled`, `answered`, `voicemail`, `voicemail_left`, `no_answer`, `busy`, "
                        "`failed`, `goal_reached`, `in_progress`: attempts, see the README), rates, answer-rate "
                        "heatmap (customer's local weekday x hour), talk time, cost, conversations and evaluation "
                        "criteria results. Every call of the campaign, or those placed within start..end.",
            responses={404: problem("No such campaign"), 422: problem("Bad period")})
def campaign_analytics(
    campaign_id: DbInt, user: CurrentUser, session: DB,
    start: str | None = Query(None, max_length=40, description=PERIOD_HELP),
    end: str | None = Query(None, max_length=40, description=PERIOD_HELP),
) -> dict[str, Any]:
    return service.campaign_report(session=session, campaign_id=campaign_id, start=start, end=end)


@router.get("/api/v1/analytics/calls", summary="Figures of every outbound call over a period",
            description="The same figures as for one campaign, over every outbound call (campaigns and one-off "
                        "calls) placed within start..end; without a start, the 30 days up to end (or now).",
            responses={422: problem("Bad period")})
def calls_analytics(
    user: CurrentUser, session: DB,
    start: str | None = Query(None, max_length=40, description=PERIOD_HELP),
    end: str | None = Query(None, max_length=40, description=PERIOD_HELP),
) -> dict[str, Any]:
    return service.calls_report(session=session, start=start, end=end)


@router.get("/api/v1/campaigns/{campaign_id}/calls.csv", summary="A campaign's calls as CSV", response_class=StreamingResponse,
            responses={**CSV, 404: problem("No such campaign")})
def campaign_calls_csv(campaign_id: DbInt, user: Viewer, session: DB) -> StreamingResponse:
    campaigns.get_campaign(session=session, campaign_id=campaign_id)
    return _csv(exports.campaign_calls_csv(campaign_id),
                f"campaign-{campaign_id}-calls-{utcnow():%Y%m%d-%H%M}.csv")


@router.get("/api/v1/conversations/export.csv", summary="The conversations list, as filtered, as CSV",
            response_class=StreamingResponse, responses={**CSV, 422: problem("Bad filter")})
def conversations_csv(
    user: Viewer,
    external_id: str | None = Query(None, max_length=128), customer_id: DbInt | None = None,
    needs_review: bool | None = None, outcome: str | None = Query(None, max_length=20),
    intent: str | None = Query(None, max_length=60), q: str | None = Query(None, max_length=200),
    evaluation_failed: bool | None = None, handed_off: bool | None = None, goal_reached: bool | None = None,
    purpose: Literal["campaign", "call_now", "reminder"] | None = None,
) -> StreamingResponse:
    filters = ConversationFilter(external_id=external_id, customer_id=customer_id, needs_review=needs_review,
                                 outcome=outcome, intent=intent, q=q, evaluation_failed=evaluation_failed,
                                 handed_off=handed_off, goal_reached=goal_reached, purpose=purpose)
    return _csv(exports.conversations_csv(filters), f"conversations-{utcnow():%Y%m%d-%H%M}.csv")
