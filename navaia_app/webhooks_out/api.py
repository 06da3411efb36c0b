"""REST routes of the integrations: outgoing webhook endpoints (admin), their deliveries and log."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field as PydanticField

from navaia_app.auth.deps import CurrentUser
from navaia_app.core.api import DB, SIGNED_IN_ERRORS, problem
from navaia_app.core.schemas import InputSchema
from navaia_app.core.types import DB_INT_MAX, DbInt
from navaia_app.webhooks_out import service
from navaia_app.webhooks_out.models import AttemptOut, DeliveryOut, EndpointCreated, EndpointIn, EndpointOut

router = APIRouter(prefix="/api/v1/webhook-endpoints", tags=["webhook endpoints"],
                   responses={**SIGNED_IN_ERRORS, 403: problem("Only an administrator can manage webhook endpoints")})

NOT_FOUND = {404: problem("No such endpoint")}


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    total: int


class EndpointPatch(InputSchema):
    url: str | None = PydanticField(default=None, max_length=2000)
    events: list[str] | None = PydanticField(default=None, min_length=1, max_length=20)
    description: str | None = PydanticField(default=None, max_length=300)


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int


class AttemptPage(BaseModel):
    items: list[AttemptOut]
    total: int


class Queued(BaseModel):
    message_id: str
    event_type: str


@router.post("", response_model=EndpointCreated, status_code=201,
             summary="Register an outgoing webhook endpoint (its secret is shown once, here)",
             responses={409: problem("Too many endpoints"), 422: problem("Invalid or internal URL, unknown event")})
def create_endpoint(body: EndpointIn, user: CurrentUser, session: DB) -> EndpointCreated:
    endpoint = service.create_endpoint(session=session, actor=user, url=body.url, events=body.events,
                                       description=body.description)
    return EndpointCreated.model_validate(endpoint, from_attributes=True)


@router.get("", response_model=EndpointPage, summary="List outgoing webhook endpoints (without their secrets)")
def list_endpoints(user: CurrentUser, session: DB) -> EndpointPage:
    items = service.list_endpoints(session=session, actor=user)
    return EndpointPage(items=items, total=len(items))


@router.get("/{endpoint_id}", response_model=EndpointOut, summary="One endpoint", responses=NOT_FOUND)
def get_endpoint(endpoint_id: DbInt, user: CurrentUser, session: DB) -> EndpointOut:
    return service.get_endpoint(session=session, actor=user, endpoint_id=endpoint_id)


@router.patch("/{endpoint_id}", response_model=EndpointOut, summary="Change an endpoint's URL, events or description",
              responses={**NOT_FOUND, 422: problem("Invalid or internal URL, unknown event")})
def update_endpoint(endpoint_id: DbInt, body: EndpointPatch, user: CurrentUser, session: DB) -> EndpointOut:
    return service.update_endpoint(session=session, actor=user, endpoint_id=endpoint_id, url=body.url,
                                   events=body.events, description=body.description)


@router.delete("/{endpoint_id}", status_code=204, summary="Delete an endpoint (and its delivery log)",
               responses=NOT_FOUND)
def delete_endpoint(endpoint_id: DbInt, user: CurrentUser, session: DB) -> None:
    service.delete_endpoint(session=session, actor=user, endpoint_id=endpoint_id)


@router.post("/{endpoint_id}/pause", response_model=EndpointOut, summary="Stop sending (events wait)",
             responses=NOT_FOUND)
def pause_endpoint(endpoint_id: DbInt, user: CurrentUser, session: DB) -> EndpointOut:
    return service.pause_endpoint(session=session, actor=user, endpoint_id=endpoint_id)


@router.post("/{endpoint_id}/resume", response_model=EndpointOut, summary="Send again, in order, from now",
             responses=NOT_FOUND)
def resume_endpoint(endpoint_id: DbInt, user: CurrentUser, session: DB) -> EndpointOut:
    return service.resume_endpoint(session=session, actor=user, endpoint_id=endpoint_id)


@router.post("/{endpoint_id}/test", response_model=Queued, status_code=202,
             summary="Queue an `endpoint.test` event for this endpoint", responses=NOT_FOUND)
def send_test_event(endpoint_id: DbInt, user: CurrentUser, session: DB) -> Queued:
    event = service.send_test_event(session=session, actor=user, endpoint_id=endpoint_id)
    return Queued(message_id=event.message_id, event_type=event.event_type)


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryPage, summary="Events queued for this endpoint",
            responses=NOT_FOUND)
def list_deliveries(
    endpoint_id: DbInt, user: CurrentUser, session: DB,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> DeliveryPage:
    items, total = service.list_deliveries(session=session, actor=user, endpoint_id=endpoint_id, status=status,
                                           limit=limit, offset=offset)
    return DeliveryPage(items=items, total=total)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/resend", response_model=DeliveryOut, status_code=202,
             summary="Send a failed or delivered event again (same webhook-id)",
             responses={**NOT_FOUND, 409: problem("Still being tried")})
def resend_delivery(endpoint_id: DbInt, delivery_id: DbInt, user: CurrentUser, session: DB) -> DeliveryOut:
    delivery = service.resend_delivery(session=session, actor=user, endpoint_id=endpoint_id, delivery_id=delivery_id)
    session.flush()
    return service.delivery_out(session=session, delivery_id=delivery.id)


@router.get("/{endpoint_id}/attempts", response_model=AttemptPage,
            summary="The delivery log: every request, its status, latency and response excerpt", responses=NOT_FOUND)
def list_attempts(endpoint_id: DbInt, user: CurrentUser, session: DB, limit: int = Query(25, ge=1, le=200),
                  offset: int = Query(0, ge=0, le=DB_INT_MAX)) -> AttemptPage:
    items, total = service.list_attempts(session=session, actor=user, endpoint_id=endpoint_id, limit=limit,
                                         offset=offset)
    return AttemptPage(items=items, total=total)
