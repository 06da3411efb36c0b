"""Customers: every rule about who they are, how they are found and how they are imported."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, or_, select

from navaia_app.audit import service as audit
from navaia_app.auth import permissions
from navaia_app.core import live
from navaia_app.core.csvfile import MAX_ROWS, check_upload_size, match_columns, open_csv
from navaia_app.core.db import add_unique, get_or_not_found
from navaia_app.core.errors import Conflict, ValidationFailed
from navaia_app.core.filters import like_escape, page_bounds
from navaia_app.core.logging import get_logger, mask_phone
from navaia_app.core.types import utcnow
from navaia_app.core.validation import clean_text, normalize_email, normalize_phone, raise_first, validate_timezone
from navaia_app.customers.models import Customer, CustomerIn, CustomerPatch

log = get_logger(__name__)

SORTABLE = {"name": Customer.name, "created_at": Customer.created_at, "phone": Customer.phone,
            "email": Customer.email, "id": Customer.id}
MAX_PAGE = 200


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate every given field, collecting all errors so a form can show each one."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "name" in data:
        out["name"] = clean_text(data["name"], 120, errors, field="name", label="Name", required=True)
    if "phone" in data:
        try:
            out["phone"] = normalize_phone(data["phone"] or "")
        except ValidationFailed as exc:
            errors["phone"] = exc.message
    if "email" in data:
        email = (data["email"] or "").strip()
        if email:
            try:
                out["email"] = normalize_email(email)
            except ValidationFailed as exc:
                errors["email"] = exc.message
        else:
            out["email"] = None
    if "timezone" in data:
        try:
            out["timezone"] = validate_timezone(data["timezone"])
        except ValidationFailed as exc:
            errors["timezone"] = exc.message
    if "do_not_call" in data and data["do_not_call"] is not None:
        out["do_not_call"] = bool(data["do_not_call"])
    if "sms_opt_out" in data and data["sms_opt_out"] is not None:
        out["sms_opt_out"] = bool(data["sms_opt_out"])
    if "notes" in data and data["notes"] is not None:
        notes = str(data["notes"]).strip()
        if len(notes) > 2000:
            errors["notes"] = "Notes are too long (2,000 characters at most)."
        out["notes"] = notes
    raise_first(errors)
    return out


def _ensure_phone_free(session: Session, phone: str, *, except_id: int | None = None) -> None:
    stmt = select(Customer.id, Customer.name).where(Customer.phone == phone)
    if except_id is not None:
        stmt = stmt.where(Customer.id != except_id)
    other = session.exec(stmt).first()
    if other is not None:
        raise Conflict(f"Another customer ({other.name}) already has the phone number {phone}.", field="phone")


def create_customer(*, session: Session, customer_in: CustomerIn) -> Customer:
    """Create a customer with a valid name, an E.164 phone and, if given, a valid email and IANA time zone.
    Raises ValidationFailed with every field at fault, and Conflict (field "phone") when another customer has
    the phone, even by a concurrent insert.
    """
    data = _clean(customer_in.model_dump())
    _ensure_phone_free(session, data["phone"])
    customer = Customer(**data)
    add_unique(session, customer, conflict=f"Another customer already has the phone number {data['phone']}.",
               field="phone")  # a concurrent insert of the same phone
    live.bump(session, "customers")
    log.info("customer.created", customer_id=customer.id, phone=mask_phone(customer.phone))
    return customer


def get_customer(*, session: Session, customer_id: int) -> Customer:
    """The customer with this id. Raises NotFound."""
    return get_or_not_found(session, Customer, customer_id, "Customer")


def update_customer(*, session: Session, customer_id: int, patch: CustomerPatch) -> Customer:
    """Change the given fields only, with the same checks as create_customer. Raises NotFound, ValidationFailed
    (a field at fault, or a required one set to null), Conflict (the new phone is another customer's).
    """
    customer = get_customer(session=session, customer_id=customer_id)
    given = patch.model_dump(exclude_unset=True)
    if "name" in given and given["name"] is None:
        raise ValidationFailed("Name is required.", field="name")
    if "phone" in given and given["phone"] is None:
        raise ValidationFailed("Phone number is required.", field="phone")
    data = _clean(given)
    if "phone" in data and data["phone"] != customer.phone:
        _ensure_phone_free(session, data["phone"], except_id=customer.id)
    for key, value in data.items():
        setattr(customer, key, value)
    customer.updated_at = utcnow()
    add_unique(session, customer, conflict="Another customer already has this phone number.", field="phone")
    live.bump(session, "customers")
    log.info("customer.updated", customer_id=customer.id, fields=sorted(data))
    return customer


def delete_customer(*, session: Session, customer_id: int, actor=None) -> None:
    """Delete a customer; their tickets, bookings and calls stay (unlinked by the database); audited
    (`customer.deleted`). Raises PermissionDenied unless the actor's role may delete customers, NotFound.
    """
    permissions.require(actor, "delete_customer")
    customer = get_customer(session=session, customer_id=customer_id)
    session.delete(customer)
    session.flush()
    audit.record(session, action="customer.deleted", actor=actor, target_type="customer", target_id=customer_id,
                 detail={"name": customer.name})
    live.bump(session, "customers")
    log.info("customer.deleted", customer_id=customer_id)



def _search_clause(q: str):
    q = q.strip()
    clauses = [Customer.search_text.like(f"%{like_escape(q.lower())}%", escape="\\")]
    digits = "".join(ch for ch in q if ch.isdigit())
    if len(digits) >= 3 and digits != q:
        clauses.append(Customer.search_text.like(f"%{digits}%"))
    return or_(*clauses) if len(clauses) > 1 else clauses[0]


def list_customers(
    *, session: Session, q: str | None = None, phone: str | None = None, email: str | None = None,
    do_not_call: bool | None = None, sort: str = "name", descending: bool = False,
    limit: int = 25, offset: int = 0,
) -> tuple[list[Customer], int]:
    """One page of customers and the total that match."""
    limit, offset = page_bounds(sort, SORTABLE, limit, offset, MAX_PAGE)
    conditions = []
    if q and q.strip():
        conditions.append(_search_clause(q))
    if phone:
        conditions.append(Customer.phone == normalize_phone(phone))
    if email:
        conditions.append(Customer.email == email.strip().lower())
    if do_not_call is not None:
        conditions.append(Customer.do_not_call == do_not_call)
    column = SORTABLE[sort]
    if q and q.strip() and session.get_bind().dialect.name == "sqlite":
        # SQLite would walk the sort index and test every row; scanning and sorting is ~5x faster.
        column = func.coalesce(column, column)
    order = [column.desc() if descending else column.asc(), Customer.id.asc()]
    items = list(session.exec(select(Customer).where(*conditions).order_by(*order).limit(limit).offset(offset)))
    total = session.exec(select(func.count()).select_from(Customer).where(*conditions)).one()
    return items, total


def find_by_phone(*, session: Session, phone: str) -> Customer | None:
    """The customer with this E.164 phone number, or None."""
    return session.exec(select(Customer).where(Customer.phone == phone)).first()


def count_customers(*, session: Session) -> int:
    """How many customers there are."""
    return session.exec(select(func.count()).select_from(Customer)).one()


# --- CSV import --------------------------------------------------------------------------------

IMPORTED_COLUMNS = ("name", "phone", "email", "timezone", "do_not_call", "notes")
TRUTHY = {"1", "true", "yes", "y", "x"}


def _existing_phones(session: Session, phones: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(phones), 500):
        chunk = phones[start:start + 500]
        found.update(session.exec(select(Customer.phone).where(Customer.phone.in_(chunk))))
    return found


@dataclass
class ImportReport:
    created: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"row": n, "reason": "..."}

    @property
    def total_rows(self) -> int:
        """Every data row of the file: created or skipped."""
        return self.created + len(self.skipped)


def import_customers_csv(*, session: Session, content: str | bytes) -> ImportReport:
    """Create a customer per valid row (a name and a phone at least; the columns may be named as
    `core.csvfile.COLUMN_ALIASES` allows); every skipped row is reported with its reason, in row order.
    Nothing is created twice: a phone that repeats an earlier row or an existing customer is skipped.

    Raises ValidationFailed (field "file") for a file over the upload limit, not UTF-8, not CSV, or
    without a name and a phone column."""
    check_upload_size(content)
    header, reader = open_csv(content)
    columns = match_columns(header, IMPORTED_COLUMNS)
    missing = [c for c in ("name", "phone") if c not in columns]
    if missing:
        raise ValidationFailed(
            f"The header row needs the column(s) {', '.join(missing)}; found: {', '.join(header) or 'nothing'}.",
            field="file",
        )
    report = ImportReport()
    seen: dict[str, int] = {}
    valid: list[tuple[int, dict[str, Any]]] = []
    row_number = 1
    try:
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(valid) + len(report.skipped) >= MAX_ROWS:
                report.skipped.append({"row": row_number,
                                       "reason": f"more than {MAX_ROWS} rows; split the file"})
                break
            raw = {k: (row[i] if i < len(row) else "") for k, i in columns.items()}
            if "do_not_call" in raw:
                raw["do_not_call"] = raw["do_not_call"].strip().lower() in TRUTHY
            try:
                data = _clean(raw)
            except ValidationFailed as exc:
                reason = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) or exc.message
                report.skipped.append({"row": row_number, "reason": reason})
                continue
            phone = data["phone"]
            if phone in seen:
                report.skipped.append({"row": row_number, "reason": f"phone {phone} repeats row {seen[phone]}"})
                continue
            seen[phone] = row_number
            valid.append((row_number, data))
    except csv.Error as exc:
        raise ValidationFailed(f"The file is not readable CSV after row {row_number} ({exc}).", field="file") from exc
    # One query per 500 phones instead of one per row: a 50,000-row file stays a few seconds.
    existing = _existing_phones(session, [data["phone"] for _, data in valid])
    for row_number, data in valid:
        if data["phone"] in existing:
            report.skipped.append({"row": row_number,
                                   "reason": f"a customer with phone {data['phone']} already exists"})
            continue
        session.add(Customer(**data))
        report.created += 1
    report.skipped.sort(key=lambda skip: skip["row"])
    session.flush()
    live.bump(session, "customers")
    log.info("customers.imported", created=report.created, skipped=len(report.skipped))
    return report
