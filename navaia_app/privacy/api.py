"""REST routes of the customer's rights (export, erasure) and of the retention policy. Admin only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field as PydanticField

from navaia_app.auth.deps import CurrentUser
from navaia_app.core.api import DB, SIGNED_IN_ERRORS, problem
from navaia_app.core.types import DbInt
from navaia_app.privacy import retention, service

customers_router = APIRouter(prefix="/api/v1/customers", tags=["customers"], responses=SIGNED_IN_ERRORS)
settings_router = APIRouter(prefix="/api/v1/settings", tags=["settings"], responses=SIGNED_IN_ERRORS)

ADMIN_ONLY = {403: problem("Only an administrator can do this")}
NOT_FOUND = {404: problem("No such customer")}


class ExportDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    export_version: int
    exported_at: str
    customer: dict[str, Any]
    bookings: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    conversations: list[dict[str, Any]]
    campaign_calls: list[dict[str, Any]]
    activity: list[dict[str, Any]]
    audit_entries: list[dict[str, Any]]
    other: dict[str, list[dict[str, Any]]]
    recordings: list[dict[str, Any]]


class ErasureResult(BaseModel):
    customer_id: int
    erased: dict[str, int]


@customers_router.get(
    "/{customer_id}/export", response_model=ExportDocument,
    summary="Everything held about a customer: JSON, or a ZIP with the call recordings (?format=zip)",
    responses={**ADMIN_ONLY, **NOT_FOUND,
               200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "The export (JSON, or a ZIP with customer.json and recordings/)"}})
def export_customer(customer_id: DbInt, user: CurrentUser, session: DB,
                    format: Literal["json", "zip"] = "json") -> Response:
    if format == "zip":
        content = service.export_zip(session=session, actor=user, customer_id=customer_id)
        return Response(content, media_type="application/zip", headers={
            "content-disposition": f'attachment; filename="customer-{customer_id}-export.zip"'})
    document = service.export_customer(session=session, actor=user, customer_id=customer_id)
    return JSONResponse(document, headers={
        "content-disposition": f'attachment; filename="customer-{customer_id}-export.json"'})


@customers_router.post("/{customer_id}/erase", response_model=ErasureResult,
                       summary="Erase everything that identifies a customer (keeps figures and an audit line)",
                       responses={**ADMIN_ONLY, **NOT_FOUND, 409: problem("Erased already")})
def erase_customer(customer_id: DbInt, user: CurrentUser, session: DB) -> ErasureResult:
    counts = service.erase_customer(session=session, actor=user, customer_id=customer_id)
    return ErasureResult(customer_id=customer_id, erased=counts)


class RetentionOut(BaseModel):
    recordings_days: int | None = PydanticField(description="Days call recordings are kept (null: forever)")
    transcripts_days: int | None = PydanticField(description="Days transcripts are kept (null: forever)")
    payloads_days: int | None = PydanticField(description="Days webhook payloads are kept (null: forever)")
    last_run_at: datetime | None
    last_run_report: dict[str, Any]


class RetentionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recordings_days: int | None = PydanticField(default=None, ge=1, le=retention.MAX_DAYS)
    transcripts_days: int | None = PydanticField(default=None, ge=1, le=retention.MAX_DAYS)
    payloads_days: int | None = PydanticField(default=None, ge=1, le=retention.MAX_DAYS)


def _out(policy) -> RetentionOut:
    return RetentionOut(recordings_days=policy.recordings_days, transcripts_days=policy.transcripts_days,
                        payloads_days=policy.payloads_days, last_run_at=policy.last_run_at,
                        last_run_report=policy.last_run_report or {})


@settings_router.get("/retention", response_model=RetentionOut, summary="How long personal data is kept")
def get_retention(user: CurrentUser, session: DB) -> RetentionOut:
    return _out(retention.get_policy(session=session))


@settings_router.put("/retention", response_model=RetentionOut, responses=ADMIN_ONLY,
                     summary="Change retention periods (send only the fields to change; null = forever)")
def put_retention(body: RetentionPatch, user: CurrentUser, session: DB) -> RetentionOut:
    policy = retention.update_policy(session=session, actor=user, changes=body.model_dump(exclude_unset=True))
    return _out(policy)
