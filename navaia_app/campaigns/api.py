"""REST API of campaigns (and "call this customer now"). Thin: the rules live in service.py."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, UploadFile
from pydantic import BaseModel

from navaia_app.campaigns import service
from navaia_app.campaigns.models import CampaignCallOut, CampaignIn, CampaignOut, CampaignPatch
from navaia_app.core.types import DB_INT_MAX, DbInt
from navaia_app.auth.deps import CurrentUser
from navaia_app.core.api import DB, FORBIDDEN, SIGNED_IN_ERRORS, problem
from navaia_app.core.csvfile import MAX_UPLOAD_BYTES
from navaia_app.outreach import calls

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"], responses=SIGNED_IN_ERRORS)
customer_calls_router = APIRouter(prefix="/api/v1/customers", tags=["campaigns"], responses=SIGNED_IN_ERRORS)

NOT_FOUND = {404: problem("No such campaign")}

class CampaignPage(BaseModel):
    items: list[CampaignOut]
    total: int
    limit: int
    offset: int


class CampaignCallRow(CampaignCallOut):
    customer_name: str


class CampaignCallPage(BaseModel):
    items: list[CampaignCallRow]
    total: int
    limit: int
    offset: int


def _out(session, campaign) -> CampaignOut:
    counts = service.call_counts(session=session, campaign_ids=[campaign.id])[campaign.id]
    return service.campaign_out(campaign, counts)


@router.get("", response_model=CampaignPage, summary="List campaigns (paginated), with their calls by status")
def list_campaigns(
    user: CurrentUser, session: DB,
    status: Literal["draft", "scheduled", "running", "paused", "completed", "cancelled"] | None = None,
    q: str | None = Query(None, max_length=200, description="Search in the name"),
    limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> CampaignPage:
    items, total = service.list_campaigns(session=session, status=status, q=q, limit=limit, offset=offset)
    counts = service.call_counts(session=session, campaign_ids=[c.id for c in items])
    return CampaignPage(items=[service.campaign_out(c, counts[c.id]) for c in items], total=total, limit=limit,
                        offset=offset)


@router.post("", response_model=CampaignOut, status_code=201, summary="Create a campaign (a draft)",
             responses={422: problem("Invalid field")})
def create_campaign(body: CampaignIn, user: CurrentUser, session: DB) -> CampaignOut:
    campaign = service.create_campaign(session=session, campaign_in=body, created_by_id=user.id)
    return _out(session, campaign)


@router.get("/{campaign_id}", response_model=CampaignOut, summary="One campaign", responses=NOT_FOUND)
def get_campaign(campaign_id: DbInt, user: CurrentUser, session: DB) -> CampaignOut:
    return _out(session, service.get_campaign(session=session, campaign_id=campaign_id))


@router.patch("/{campaign_id}", response_model=CampaignOut, summary="Change a draft campaign",
              responses={**NOT_FOUND, 409: problem("Not a draft")})
def update_campaign(campaign_id: DbInt, body: CampaignPatch, user: CurrentUser, session: DB) -> CampaignOut:
    return _out(session, service.update_campaign(session=session, campaign_id=campaign_id, patch=body))


@router.delete("/{campaign_id}", status_code=204, summary="Delete a draft campaign",
               responses={**NOT_FOUND, 409: problem("Not a draft")})
def delete_campaign(campaign_id: DbInt, user: CurrentUser, session: DB) -> None:
    service.delete_campaign(session=session, campaign_id=campaign_id, actor=user)


@router.post("/{campaign_id}/duplicate", response_model=CampaignOut, status_code=201,
             summary="Copy a campaign into a new draft", responses=NOT_FOUND)
def duplicate_campaign(campaign_id: DbInt, user: CurrentUser, session: DB) -> CampaignOut:
    return _out(session, service.duplicate_campaign(session=session, campaign_id=campaign_id, created_by_id=user.id))


@router.post("/{campaign_id}/audience/csv", response_model=CampaignOut,
             summary="Set a draft's audience from a CSV call list (extra columns become call variables)",
             responses={**NOT_FOUND, 409: problem("Not a draft")})
def upload_audience(campaign_id: DbInt, file: UploadFile, user: CurrentUser, session: DB) -> CampaignOut:
    content = file.file.read(MAX_UPLOAD_BYTES + 1)  # the service refuses more than the limit
    campaign = service.set_csv_audience(session=session, campaign_id=campaign_id, content=content,
                                        file_name=file.filename or "")
    return _out(session, campaign)


@router.post("/{campaign_id}/start", response_model=CampaignOut,
             summary="Run: snapshot the audience and start calling (or schedule it for start_at); more than 50 "
                     "customers: admin",
             responses={**NOT_FOUND, **FORBIDDEN, 409: problem("Already run")})
def start_campaign(campaign_id: DbInt, user: CurrentUser, session: DB) -> CampaignOut:
    return _out(session, service.start_campaign(session=session, campaign_id=campaign_id, actor=user))


@router.post("/{campaign_id}/pause", response_model=CampaignOut, summary="Pause (calls already ringing finish)",
             responses={**NOT_FOUND, 409: problem("Not running or scheduled")})
def pause_campaign(campaign_id: DbInt, user: CurrentUser, session: DB) -> CampaignOut:
    return _out(session, service.pause_campaign(session=session, campaign_id=campaign_id))


@router.post("/{campaign_id}/resume", response_model=CampaignOut, summary="Resume a paused campaign; more than 50 customers: admin",
             responses={**NOT_FOUND, **FORBIDDEN, 409: problem("Not paused")})
def resume_campaign(campaign_id: DbInt, user: CurrentUser, session: DB) -> CampaignOut:
    return _out(session, service.resume_campaign(session=session, campaign_id=campaign_id, actor=user))


@router.post("/{campaign_id}/cancel", response_model=CampaignOut,
             summary="Cancel: calls not placed yet are cancelled, calls already ringing finish",
             responses={**NOT_FOUND, 409: problem("Not running, scheduled or paused")})
def cancel_campaign(campaign_id: DbInt, user: CurrentUser, session: DB) -> CampaignOut:
    return _out(session, service.cancel_campaign(session=session, campaign_id=campaign_id))


@router.get("/{campaign_id}/calls", response_model=CampaignCallPage, summary="A campaign's calls (paginated)",
            responses=NOT_FOUND)
def list_calls(
    campaign_id: DbInt, user: CurrentUser, session: DB,
    status: str | None = Query(None, max_length=200, description="One status or several, comma-separated"),
    limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> CampaignCallPage:
    service.get_campaign(session=session, campaign_id=campaign_id)
    rows, total = service.list_calls(session=session, campaign_id=campaign_id, status=status, limit=limit,
                                     offset=offset)
    items = [CampaignCallRow(**CampaignCallOut.model_validate(call).model_dump(), customer_name=name)
             for call, name, _phone in rows]
    return CampaignCallPage(items=items, total=total, limit=limit, offset=offset)


@customer_calls_router.post("/{customer_id}/call", response_model=CampaignCallOut, status_code=202,
                            summary="Call this customer now (one outbound call, through the same path)",
                            responses={404: problem("No such customer"),
                                       409: problem("Do not call, or already on a call")})
def call_customer(customer_id: DbInt, user: CurrentUser, session: DB) -> CampaignCallOut:
    call = calls.call_customer_now(session=session, customer_id=customer_id, requested_by_id=user.id)
    return CampaignCallOut.model_validate(call)
