from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, UploadFile
from pydantic import BaseModel

from navaia_app.auth.deps import CurrentUser
from navaia_app.core.csvfile import MAX_UPLOAD_BYTES
from navaia_app.core.types import DB_INT_MAX, DbInt
from navaia_app.core.api import DB, FORBIDDEN, Page, SIGNED_IN_ERRORS, problem
from navaia_app.customers import service
from navaia_app.customers.models import CustomerIn, CustomerOut, CustomerPatch

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], responses=SIGNED_IN_ERRORS)

NOT_FOUND = {404: problem("No such customer")}


CustomerPage = Page[CustomerOut]


class ImportResult(BaseModel):
    created: int
    skipped: list[dict]


@router.get("", response_model=CustomerPage, summary="List customers (paginated, searchable)")
def list_customers(
    user: CurrentUser, session: DB,
    q: str | None = Query(None, max_length=200, description="Search in name, phone and email"),
    phone: str | None = Query(None, max_length=40), email: str | None = Query(None, max_length=254),
    do_not_call: bool | None = None,
    sort: Literal["name", "created_at", "phone", "email", "id"] = "name", desc: bool = False,
    limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> CustomerPage:
    items, total = service.list_customers(session=session, q=q, phone=phone, email=email, do_not_call=do_not_call,
                                          sort=sort, descending=desc, limit=limit, offset=offset)
    return CustomerPage(items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=CustomerOut, status_code=201, summary="Create a customer",
             responses={409: problem("Phone already used"), 422: problem("Invalid field")})
def create_customer(body: CustomerIn, user: CurrentUser, session: DB) -> CustomerOut:
    return service.create_customer(session=session, customer_in=body)


@router.post("/import", response_model=ImportResult, summary="Import customers from a CSV file")
def import_customers(file: UploadFile, user: CurrentUser, session: DB) -> ImportResult:
    # A plain (threadpool) route: a large import must not block the event loop the web app shares.
    content = file.file.read(MAX_UPLOAD_BYTES + 1)  # the service refuses more than the limit
    report = service.import_customers_csv(session=session, content=content)
    return ImportResult(created=report.created, skipped=report.skipped)


@router.get("/{customer_id}", response_model=CustomerOut, summary="One customer", responses=NOT_FOUND)
def get_customer(customer_id: DbInt, user: CurrentUser, session: DB) -> CustomerOut:
    return service.get_customer(session=session, customer_id=customer_id)


@router.patch("/{customer_id}", response_model=CustomerOut, summary="Change a customer",
               responses={**NOT_FOUND, 409: problem("Phone already used")})
def update_customer(customer_id: DbInt, body: CustomerPatch, user: CurrentUser, session: DB) -> CustomerOut:
    return service.update_customer(session=session, customer_id=customer_id, patch=body)


@router.delete("/{customer_id}", status_code=204, summary="Delete a customer (admin)",
               responses={**NOT_FOUND, **FORBIDDEN})
def delete_customer(customer_id: DbInt, user: CurrentUser, session: DB) -> None:
    service.delete_customer(session=session, customer_id=customer_id, actor=user)
