"""Campaigns: what to call and why: drafts, the audience and its snapshot, calling windows, the retry
policy, pause/resume/cancel, and the figures of a running campaign.

The outbound pipeline (navaia_app/outreach) does the calling for every purpose: eligibility, the
call and attempt state machine, the dispatcher, the providers' reports. It asks this module's
rules through the campaign policy (campaigns/policy.py).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, func, or_, select

from navaia_app.audit import service as audit
from navaia_app.auth import permissions
from navaia_app.campaigns.models import (
    AUDIENCE_TYPES,
    WEEKDAYS,
    Campaign,
    CampaignCall,
    CampaignCallAttempt,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
)
from navaia_app.campaigns.schedule import CallingWindow
from navaia_app.core.csvfile import MAX_ROWS as MAX_CSV_ROWS, check_upload_size, column_role, open_csv
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import fits_db_int, utcnow
from navaia_app.core.validation import clean_text, raise_first, validate_timezone
from navaia_app.customers.models import Customer
from navaia_app.outreach import states
from navaia_app.outreach.calls import RESERVED_VARIABLES, bump, kick_after_commit
from navaia_app.outreach.eligibility import check_eligibility, customer_zone
from navaia_app.outreach.outcomes import (
    CALL_STATUSES,
    DONE_CALL_STATUSES,
    OPEN_CALL_STATUSES,
    RETRYABLE_OUTCOMES,
    normalize_outcome,
)
from navaia_app.webhooks_out import outbox

log = get_logger(__name__)

MAX_PAGE = 200
MAX_VOICEMAIL = 1000  # about a minute spoken
MAX_CALLS_PER_SECOND = 100.0
MAX_CONCURRENT = 1000
MAX_ATTEMPTS = 10
MAX_VARIABLES = 50
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# --- validation ----------------------------------------------------------------------------------


def _clean_variables(raw: Any, errors: dict[str, str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors["variables"] = "Variables must be an object of name: value."
        return {}
    if len(raw) > MAX_VARIABLES:
        errors["variables"] = f"At most {MAX_VARIABLES} variables."
        return {}
    out = {}
    for key, value in raw.items():
        key = str(key).strip()
        if not VARIABLE_NAME.match(key):
            errors["variables"] = f"'{key}' is not a valid variable name (letters, digits and _; 40 at most)."
            continue
        if key in RESERVED_VARIABLES:
            errors["variables"] = f"'{key}' is set by Navaia on every call; choose another name."
            continue
        if isinstance(value, (dict, list)):
            errors["variables"] = f"Variable '{key}' must be text or a number."
            continue
        out[key] = "" if value is None else str(value)[:500]
    return out


def _clean_audience(raw: dict[str, Any] | None, errors: dict[str, str]) -> dict[str, Any]:
    raw = dict(raw or {"type": "all"})
    kind = raw.get("type") or "all"
    if kind not in AUDIENCE_TYPES:
        errors["audience"] = f"Audience must be one of: {', '.join(AUDIENCE_TYPES)}."
        return {"type": "all"}
    if kind == "all":
        return {"type": "all"}
    if kind == "filters":
        out: dict[str, Any] = {"type": "filters"}
        q = (raw.get("q") or "").strip()
        if len(q) > 200:
            errors["audience"] = "The search text is too long (200 characters at most)."
        if q:
            out["q"] = q
        if raw.get("timezone"):
            try:
                out["timezone"] = validate_timezone(raw["timezone"], field="audience")
            except ValidationFailed as exc:
                errors["audience"] = exc.message
        prefix = (raw.get("phone_prefix") or "").strip().replace(" ", "")
        if prefix:
            if not re.match(r"^\+\d{1,6}$", prefix):
                errors["audience"] = "The phone prefix is a + and a few digits, like +1 or +44."
            out["phone_prefix"] = prefix
        if len(out) == 1:
            errors["audience"] = "Give at least one filter (search text, time zone or phone prefix)."
        return out
    if kind == "customers":
        ids = raw.get("customer_ids") or []
        try:
            ids = sorted({int(i) for i in ids})
        except (TypeError, ValueError):
            errors["audience"] = "customer_ids must be a list of customer ids."
            ids = []
        if not ids:
            errors["audience"] = "Pick at least one customer."
        if len(ids) > MAX_CSV_ROWS:
            errors["audience"] = f"At most {MAX_CSV_ROWS} customers."
        return {"type": "customers", "customer_ids": ids}
    # csv: rows come from set_csv_audience; keep what is there
    rows = raw.get("rows") or []
    if not rows:
        errors["audience"] = "Upload a CSV file with the customers to call."
    return {"type": "csv", "rows": rows, "columns": raw.get("columns") or [], "file_name": raw.get("file_name") or "",
            "problems": raw.get("problems") or []}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate every given field, collecting all errors so a form can show each one."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "name" in data:
        out["name"] = clean_text(data["name"], 120, errors, field="name", label="Name", required=True)
    if "purpose" in data and data["purpose"] is not None:
        purpose = str(data["purpose"]).strip()
        if len(purpose) > 2000:
            errors["purpose"] = "Purpose is too long (2,000 characters at most)."
        out["purpose"] = purpose
    if "voicemail_message" in data:
        message = " ".join(str(data["voicemail_message"] or "").split())
        if len(message) > MAX_VOICEMAIL:
            errors["voicemail_message"] = f"The voicemail message is too long ({MAX_VOICEMAIL:,} characters at most)."
        out["voicemail_message"] = message
    if "calls_per_second" in data and data["calls_per_second"] is not None:
        try:
            cps = float(data["calls_per_second"])
        except (TypeError, ValueError):
            cps = -1
        if not 0 < cps <= MAX_CALLS_PER_SECOND:
            errors["calls_per_second"] = f"Calls per second must be above 0 and at most {MAX_CALLS_PER_SECOND:g}."
        out["calls_per_second"] = cps
    for key, low, high, label in (("max_concurrent_calls", 1, MAX_CONCURRENT, "Concurrent calls"),
                                  ("max_attempts", 1, MAX_ATTEMPTS, "Attempts"),
                                  ("retry_spacing_minutes", 1, 7 * 24 * 60, "Retry spacing (minutes)")):
        if key in data and data[key] is not None:
            try:
                value = int(data[key])
            except (TypeError, ValueError):
                value = low - 1
            if not low <= value <= high:
                errors[key] = f"{label} must be between {low} and {high:,}."
            out[key] = value
    if "retry_on" in data and data["retry_on"] is not None:
        names = data["retry_on"].split(",") if isinstance(data["retry_on"], str) else list(data["retry_on"])
        names = [normalize_outcome(n) for n in names if n and n.strip()]
        bad = [n for n in names if n not in RETRYABLE_OUTCOMES]
        if bad:
            errors["retry_on"] = f"Retries can follow: {', '.join(RETRYABLE_OUTCOMES)} (not {', '.join(bad)})."
        out["retry_on"] = ",".join(n for n in RETRYABLE_OUTCOMES if n in names)
    for key in ("calling_window_start", "calling_window_end"):
        if key in data and data[key] is not None:
            value = str(data[key]).strip()[:5]
            if not HHMM.match(value):
                errors[key] = "Use a 24-hour time like 09:00."
            out[key] = value
    if "calling_days" in data and data["calling_days"] is not None:
        days = data["calling_days"].split(",") if isinstance(data["calling_days"], str) else data["calling_days"]
        days = [d.strip().lower()[:3] for d in days if d and d.strip()]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad or not days:
            errors["calling_days"] = "Pick at least one day (mon ... sun)."
        out["calling_days"] = ",".join(d for d in WEEKDAYS if d in days)
    if "start_at" in data:
        start_at = data["start_at"]
        if start_at is not None and start_at.tzinfo is None:
            errors["start_at"] = "The start time needs a time zone offset (e.g. 2026-12-01T09:00:00+01:00)."
        out["start_at"] = start_at
    if "variables" in data:
        out["variables"] = _clean_variables(data["variables"], errors)
    if "audience" in data:
        out["audience"] = _clean_audience(data["audience"], errors)
    raise_first(errors)
    return out


def _audience_from_body(body: dict[str, Any]) -> None:
    """`customer_ids` in a REST body is the hand-picked audience; omitted (and no audience): everyone."""
    ids = body.pop("customer_ids", None)
    if ids is not None:
        body["audience"] = {"type": "customers", "customer_ids": ids}
    elif body.get("audience") is not None:
        body["audience"] = {k: v for k, v in body["audience"].items() if v is not None}


# --- CRUD ------------------------------------------------------------------------------------------


def get_campaign(*, session: Session, campaign_id: int) -> Campaign:
    """The campaign. Raises NotFound."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found.")
    return campaign


def create_campaign(*, session: Session, campaign_in: CampaignIn, created_by_id: int | None = None) -> Campaign:
    """A new draft campaign from `campaign_in` (every field validated at once). Raises ValidationFailed
    (with every field's error) and changes nothing then."""
    body = campaign_in.model_dump()
    _audience_from_body(body)
    body.setdefault("audience", None)
    if body["audience"] is None:
        body["audience"] = {"type": "all"}
    data = _clean(body)
    campaign = Campaign(**data, created_by_id=created_by_id)
    session.add(campaign)
    session.flush()
    bump(session)
    log.info("campaign.created", campaign_id=campaign.id, audience=campaign.audience.get("type"))
    return campaign


def _require_draft(campaign: Campaign, action: str) -> None:
    if campaign.status != "draft":
        raise Conflict(f"Only a draft campaign can be {action}; '{campaign.name}' is {campaign.status}.",
                       field="status")


def update_campaign(*, session: Session, campaign_id: int, patch: CampaignPatch) -> Campaign:
    """Change a draft campaign (only the fields given). Raises NotFound, Conflict (not a draft),
    ValidationFailed (a field given as empty or wrong)."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    _require_draft(campaign, "edited")
    given = patch.model_dump(exclude_unset=True)
    if "customer_ids" in given or "audience" in given:
        _audience_from_body(given)
        if given.get("audience") is None:
            given["audience"] = {"type": "all"}
    for key in ("name", "calls_per_second", "max_concurrent_calls", "max_attempts", "calling_window_start",
                "calling_window_end", "calling_days", "retry_on", "retry_spacing_minutes"):
        if key in given and given[key] is None:
            raise ValidationFailed(f"{key} cannot be empty.", field=key)
    data = _clean(given)
    for key, value in data.items():
        setattr(campaign, key, value)
    campaign.updated_at = utcnow()
    session.add(campaign)
    session.flush()
    bump(session)
    log.info("campaign.updated", campaign_id=campaign.id, fields=sorted(data))
    return campaign


def delete_campaign(*, session: Session, campaign_id: int, actor=None) -> None:
    """Delete a draft campaign (audited). Raises NotFound, or Conflict when it is not a draft."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    _require_draft(campaign, "deleted")
    audit.record(session, action="campaign.deleted", actor=actor, target_type="campaign", target_id=campaign_id,
                 detail={"name": campaign.name})
    session.delete(campaign)
    session.flush()
    bump(session)
    log.info("campaign.deleted", campaign_id=campaign_id)


def duplicate_campaign(*, session: Session, campaign_id: int, created_by_id: int | None = None) -> Campaign:
    """A new draft with the campaign's settings and audience (not its calls). Raises NotFound."""
    source = get_campaign(session=session, campaign_id=campaign_id)
    name = f"Copy of {source.name}"[:120]
    copy = Campaign(
        name=name, purpose=source.purpose, audience=dict(source.audience), variables=dict(source.variables),
        start_at=None, calling_window_start=source.calling_window_start,
        calling_window_end=source.calling_window_end, calling_days=source.calling_days,
        calls_per_second=source.calls_per_second, max_concurrent_calls=source.max_concurrent_calls,
        max_attempts=source.max_attempts, retry_spacing_minutes=source.retry_spacing_minutes,
        retry_on=source.retry_on, voicemail_message=source.voicemail_message, created_by_id=created_by_id,
    )
    session.add(copy)
    session.flush()
    bump(session)
    log.info("campaign.duplicated", campaign_id=copy.id, source_id=source.id)
    return copy


def list_campaigns(*, session: Session, status: str | None = None, q: str | None = None, limit: int = 25,
                   offset: int = 0) -> tuple[list[Campaign], int]:
    """One page of campaigns, newest first, and the total that match. Raises ValidationFailed for an
    unknown status."""
    limit = max(1, min(int(limit), MAX_PAGE))
    conditions = []
    if status:
        if status not in ("draft", "scheduled", "running", "paused", "completed", "cancelled"):
            raise ValidationFailed(f"Unknown campaign status '{status}'.", field="status")
        conditions.append(Campaign.status == status)
    if q and q.strip():
        conditions.append(func.lower(Campaign.name).contains(q.strip().lower(), autoescape=True))
    items = list(session.exec(select(Campaign).where(*conditions)
                              .order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(limit).offset(offset)))
    total = session.exec(select(func.count()).select_from(Campaign).where(*conditions)).one()
    return items, total


def call_counts(*, session: Session, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Calls by status for each campaign (every status present, zeros included)."""
    counts = {cid: {s: 0 for s in CALL_STATUSES} for cid in campaign_ids}
    if not campaign_ids:
        return counts
    rows = session.exec(select(CampaignCall.campaign_id, CampaignCall.status, func.count())
                        .where(CampaignCall.campaign_id.in_(campaign_ids))
                        .group_by(CampaignCall.campaign_id, CampaignCall.status))
    for campaign_id, status, n in rows:
        counts[campaign_id][status] = n
    return counts


def progress_of(counts: dict[str, int]) -> float:
    """Percent of calls done (final, skipped or cancelled) among `counts` (0 when there are none)."""
    total = sum(counts.values())
    if not total:
        return 0.0
    done = sum(counts.get(s, 0) for s in DONE_CALL_STATUSES)
    return round(100.0 * done / total, 1)


def campaign_out(campaign: Campaign, counts: dict[str, int]) -> CampaignOut:
    """The campaign as the REST API shows it, with its calls counted by status."""
    return CampaignOut(
        id=campaign.id, name=campaign.name, purpose=campaign.purpose, status=campaign.status,
        status_reason=campaign.status_reason, audience=_audience_summary(campaign.audience),
        variables=campaign.variables, start_at=campaign.start_at,
        calling_window_start=campaign.calling_window_start, calling_window_end=campaign.calling_window_end,
        calling_days=[d for d in campaign.calling_days.split(",") if d],
        calls_per_second=campaign.calls_per_second, max_concurrent_calls=campaign.max_concurrent_calls,
        max_attempts=campaign.max_attempts, retry_spacing_minutes=campaign.retry_spacing_minutes,
        retry_on=[r for r in campaign.retry_on.split(",") if r], voicemail_message=campaign.voicemail_message or "",
        counts=counts, total_calls=sum(counts.values()),
        progress=progress_of(counts), snapshot=campaign.snapshot or {}, created_at=campaign.created_at,
        updated_at=campaign.updated_at, started_at=campaign.started_at, completed_at=campaign.completed_at,
    )


def _audience_summary(audience: dict[str, Any]) -> dict[str, Any]:
    """The audience as the API shows it (a CSV's rows are summarised, not echoed)."""
    if audience.get("type") == "csv":
        return {"type": "csv", "file_name": audience.get("file_name", ""), "rows": len(audience.get("rows") or []),
                "columns": audience.get("columns") or [], "problems": len(audience.get("problems") or [])}
    return audience


# --- the audience ----------------------------------------------------------------------------------

CSV_ROLES = ("phone", "name", "customer_id", "email", "timezone")  # other columns are variables for the agent


@dataclass
class CsvAudience:
    rows: list[dict[str, Any]] = field(default_factory=list)  # {"phone"|"customer_id", "name", "variables"}
    columns: list[str] = field(default_factory=list)  # the variable columns
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"row": n, "reason": "..."}


def parse_audience_csv(content: str | bytes) -> CsvAudience:
    """Read a call list: a phone (or customer_id) column, optional name, email, timezone (named as
    `core.csvfile.COLUMN_ALIASES` allows); every other column becomes a per-call variable for the agent.
    Raises ValidationFailed (field "file") for a file over the upload limit, unreadable, without a phone
    or customer_id column, or without a usable row; bad rows are reported in `problems`, not raised."""
    from navaia_app.core.validation import normalize_phone

    check_upload_size(content)
    header, reader = open_csv(content)
    header = [h.strip() for h in header]
    roles: dict[int, str] = {}
    variables: dict[int, str] = {}
    for index, title in enumerate(header):
        key = title.lower()
        role = column_role(key, CSV_ROLES)
        if role and role not in roles.values():
            roles[index] = role
            continue
        name = re.sub(r"\W+", "_", key).strip("_")[:40]
        if not name or not VARIABLE_NAME.match(name) or name in RESERVED_VARIABLES or name in variables.values():
            continue
        variables[index] = name
    if "phone" not in roles.values() and "customer_id" not in roles.values():
        raise ValidationFailed(f"The header row needs a phone (or customer_id) column; found: "
                               f"{', '.join(header) or 'nothing'}.", field="file")
    if len(variables) > MAX_VARIABLES:
        raise ValidationFailed(f"At most {MAX_VARIABLES} variable columns.", field="file")
    parsed = CsvAudience(columns=list(variables.values()))
    seen: set[str] = set()
    try:
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(parsed.rows) >= MAX_CSV_ROWS:
                parsed.problems.append({"row": number, "reason": f"more than {MAX_CSV_ROWS} rows; split the file"})
                break
            cells = {role: (row[i].strip() if i < len(row) else "") for i, role in roles.items()}
            entry: dict[str, Any] = {"variables": {name: (row[i].strip()[:500] if i < len(row) else "")
                                                   for i, name in variables.items()}}
            if cells.get("customer_id"):
                if not cells["customer_id"].isdecimal():  # not isdigit(): int("\u00b2") raises
                    parsed.problems.append({"row": number, "reason": f"customer_id '{cells['customer_id']}' is "
                                                                     "not a number"})
                    continue
                if len(cells["customer_id"]) > 10 or not fits_db_int(int(cells["customer_id"])):
                    parsed.problems.append({"row": number, "reason": f"customer_id '{cells['customer_id'][:20]}' "
                                                                     "names no customer"})
                    continue
                entry["customer_id"] = int(cells["customer_id"])
                identity = f"id:{entry['customer_id']}"
            else:
                try:
                    entry["phone"] = normalize_phone(cells.get("phone", ""))
                except ValidationFailed as exc:
                    parsed.problems.append({"row": number, "reason": exc.message})
                    continue
                identity = entry["phone"]
            if identity in seen:
                parsed.problems.append({"row": number, "reason": "repeats an earlier row"})
                continue
            seen.add(identity)
            for key in ("name", "email", "timezone"):
                if cells.get(key):
                    entry[key] = cells[key][:254]
            parsed.rows.append(entry)
    except csv.Error as exc:
        raise ValidationFailed(f"The file is not readable CSV ({exc}).", field="file") from exc
    if not parsed.rows:
        raise ValidationFailed("The file has no usable row.", field="file")
    return parsed


def set_csv_audience(*, session: Session, campaign_id: int, content: str | bytes, file_name: str = "") -> Campaign:
    """Make an uploaded call list the draft's audience. Raises NotFound, Conflict (not a draft),
    ValidationFailed (no phone or customer_id column, no usable row, unreadable CSV)."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    _require_draft(campaign, "edited")
    parsed = parse_audience_csv(content)
    campaign.audience = {"type": "csv", "rows": parsed.rows, "columns": parsed.columns,
                         "file_name": file_name[:200], "problems": parsed.problems[:500]}
    campaign.updated_at = utcnow()
    session.add(campaign)
    session.flush()
    bump(session)
    log.info("campaign.audience_csv", campaign_id=campaign.id, rows=len(parsed.rows), problems=len(parsed.problems))
    return campaign


def _filters_query(audience: dict[str, Any]):
    stmt = select(Customer.id)
    if audience.get("type") == "filters":
        from navaia_app.customers.service import _search_clause

        if audience.get("q"):
            stmt = stmt.where(_search_clause(audience["q"]))
        if audience.get("timezone"):
            zone = audience["timezone"]
            if zone == get_settings().business_timezone:
                stmt = stmt.where(or_(Customer.timezone == zone, Customer.timezone.is_(None)))
            else:
                stmt = stmt.where(Customer.timezone == zone)
        if audience.get("phone_prefix"):
            stmt = stmt.where(Customer.phone.startswith(audience["phone_prefix"]))
    return stmt


def audience_size(*, session: Session, audience: dict[str, Any]) -> int:
    """How many people the audience names now (before exclusions)."""
    kind = audience.get("type", "all")
    if kind in ("all", "filters"):
        return session.exec(select(func.count()).select_from(_filters_query(audience).subquery())).one()
    if kind == "customers":
        return len(audience.get("customer_ids") or [])
    return len(audience.get("rows") or [])


def _resolve_csv(session: Session, audience: dict[str, Any], report: dict[str, int]) -> list[tuple[int, dict]]:
    """Match CSV rows to customers (by id or phone); unknown phones with a name become customers."""
    from navaia_app.customers.models import CustomerIn
    from navaia_app.customers.service import create_customer

    rows = audience.get("rows") or []
    phones = [r["phone"] for r in rows if r.get("phone")]
    ids = [r["customer_id"] for r in rows if r.get("customer_id")]
    by_phone: dict[str, int] = {}
    for start in range(0, len(phones), 500):
        for cid, phone in session.exec(select(Customer.id, Customer.phone).where(
                Customer.phone.in_(phones[start:start + 500]))):
            by_phone[phone] = cid
    known_ids: set[int] = set()
    for start in range(0, len(ids), 500):
        known_ids.update(session.exec(select(Customer.id).where(Customer.id.in_(ids[start:start + 500]))))
    out = []
    for row in rows:
        cid = row.get("customer_id")
        if cid is not None:
            if cid not in known_ids:
                report["not_found"] = report.get("not_found", 0) + 1
                continue
        else:
            cid = by_phone.get(row["phone"])
            if cid is None:
                if not row.get("name"):
                    report["not_found"] = report.get("not_found", 0) + 1
                    continue
                try:
                    customer = create_customer(session=session, customer_in=CustomerIn(
                        name=row["name"], phone=row["phone"], email=row.get("email"), timezone=row.get("timezone")))
                except (ValidationFailed, Conflict, ValueError):
                    report["invalid_row"] = report.get("invalid_row", 0) + 1
                    continue
                cid = customer.id
                by_phone[row["phone"]] = cid
                report["created_customers"] = report.get("created_customers", 0) + 1
        out.append((cid, row.get("variables") or {}))
    return out


def window_of(campaign: Campaign) -> CallingWindow:
    """The campaign's calling window (read in each customer's zone)."""
    return CallingWindow.of(campaign.calling_window_start, campaign.calling_window_end, campaign.calling_days)


class _Contact(NamedTuple):
    phone: str
    timezone: str | None
    do_not_call: bool


def snapshot_audience(*, session: Session, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """One campaign-call row per customer the campaign will call (and one, skipped with its reason,
    per customer it must not: outreach.eligibility says who, the same rule the dispatcher applies
    again before dialling). Returns the snapshot report: audience size, included, excluded by reason."""
    audience = campaign.audience or {"type": "all"}
    kind = audience.get("type", "all")
    excluded: dict[str, int] = {}
    if kind in ("all", "filters"):
        wanted = [(cid, {}) for cid in session.exec(_filters_query(audience))]
    elif kind == "customers":
        wanted = [(cid, {}) for cid in audience.get("customer_ids") or []]
    else:
        wanted = _resolve_csv(session, audience, excluded)
    created = excluded.pop("created_customers", 0)
    unresolved = sum(excluded.values())  # CSV rows that matched nobody
    variables_by_id = {}
    for cid, variables in wanted:
        variables_by_id.setdefault(cid, variables)
    ids = list(variables_by_id)
    customers: dict[int, _Contact] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for cid, phone, zone, dnc in session.exec(select(Customer.id, Customer.phone, Customer.timezone,
                                                         Customer.do_not_call).where(Customer.id.in_(chunk))):
            customers[cid] = _Contact(phone, zone, dnc)
    missing = len(ids) - len(customers)
    if missing:
        excluded["not_found"] = excluded.get("not_found", 0) + missing
    window = window_of(campaign)
    begin = max(now, campaign.start_at or now)
    openings: dict[str, datetime | None] = {}
    rows = []
    included = 0
    for cid in ids:
        if cid not in customers:
            continue
        verdict = check_eligibility(contact=customers[cid], channel="call", now=begin, window=window,
                                    openings=openings)
        if verdict.verdict == "never":
            status = "skipped"
            excluded[verdict.code] = excluded.get(verdict.code, 0) + 1
        else:
            status = "pending"
            included += 1
        assert status in states.INITIAL_CALL_STATUSES
        rows.append({"campaign_id": campaign.id, "customer_id": cid, "status": status, "attempts": 0, "tries": 0,
                     "skip_reason": verdict.reason, "variables": variables_by_id[cid], "next_attempt_at": verdict.at,
                     "purpose": "campaign", "claims": {}, "created_at": now, "updated_at": now})
    for start in range(0, len(rows), 2000):
        session.execute(sa.insert(CampaignCall), rows[start:start + 2000])
    report = {"audience": len(ids) + unresolved, "included": included, "excluded": excluded,
              "taken_at": now.isoformat()}
    if created:
        report["created_customers"] = created
    return report


# --- running a campaign ---------------------------------------------------------------------------


def start_campaign(*, session: Session, campaign_id: int, now: datetime | None = None, actor=None) -> Campaign:
    """"Run Campaign": snapshot the audience, then let the dispatcher call (now or at start_at)."""
    now = now or utcnow()
    campaign = session.exec(select(Campaign).where(Campaign.id == campaign_id).with_for_update()).first()
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found.")
    if campaign.status != "draft":
        raise Conflict(f"'{campaign.name}' has already been run (it is {campaign.status}).", field="status")
    # The status flips first, conditionally: two clicks on "Run" snapshot once.
    flipped = session.execute(sa.update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "draft")
                              .values(status="running", updated_at=now))
    if flipped.rowcount != 1:
        raise Conflict(f"'{campaign.name}' is already running.", field="status")
    session.refresh(campaign)
    campaign.snapshot = snapshot_audience(session=session, campaign=campaign, now=now)
    # Known only once the audience is taken; a refusal rolls the snapshot back with the rest.
    permissions.require(actor, permissions.campaign_start_action(campaign.snapshot["included"]))
    campaign.status = "scheduled" if campaign.start_at and campaign.start_at > now else "running"
    campaign.started_at = now
    campaign.status_reason = None
    campaign.updated_at = now
    session.add(campaign)
    session.flush()
    bump(session)
    kick_after_commit(session)
    audit.record(session, action="campaign.started", actor=actor, target_type="campaign", target_id=campaign.id,
                 detail={"name": campaign.name, "included": campaign.snapshot["included"]})
    log.info("campaign.started", campaign_id=campaign.id, status=campaign.status,
             included=campaign.snapshot["included"], excluded=campaign.snapshot["excluded"])
    return campaign


def pause_campaign(*, session: Session, campaign_id: int, actor=None, reason: str | None = None) -> Campaign:
    """Stop placing calls (calls already ringing finish). Raises NotFound, or Conflict when it is not
    running or scheduled."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.status not in ("running", "scheduled"):
        raise Conflict(f"Only a running or scheduled campaign can be paused; '{campaign.name}' is {campaign.status}.",
                       field="status")
    now = utcnow()
    campaign.status, campaign.paused_at, campaign.updated_at = "paused", now, now
    campaign.status_reason = reason
    session.add(campaign)
    session.flush()
    bump(session)
    audit.record(session, action="campaign.paused", actor=actor, target_type="campaign", target_id=campaign.id,
                 detail={"name": campaign.name, "reason": reason or ""})
    log.info("campaign.paused", campaign_id=campaign.id, reason=reason)
    return campaign


def resume_campaign(*, session: Session, campaign_id: int, actor=None) -> Campaign:
    """Place calls again (or wait for start_at). Raises NotFound, Conflict (not paused), PermissionDenied
    (an agent resuming a campaign of more than 50 customers)."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.status != "paused":
        raise Conflict(f"Only a paused campaign can be resumed; '{campaign.name}' is {campaign.status}.",
                       field="status")
    permissions.require(actor, permissions.campaign_start_action((campaign.snapshot or {}).get("included", 0)))
    now = utcnow()
    campaign.status = "scheduled" if campaign.start_at and campaign.start_at > now else "running"
    campaign.paused_at, campaign.status_reason, campaign.updated_at = None, None, now
    session.add(campaign)
    session.flush()
    bump(session)
    kick_after_commit(session)
    audit.record(session, action="campaign.resumed", actor=actor, target_type="campaign", target_id=campaign.id,
                 detail={"name": campaign.name})
    log.info("campaign.resumed", campaign_id=campaign.id)
    return campaign


def cancel_campaign(*, session: Session, campaign_id: int, actor=None) -> Campaign:
    """Stop for good: calls not yet placed are cancelled; calls already ringing finish."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.status not in ("running", "scheduled", "paused"):
        raise Conflict(f"Only a running, scheduled or paused campaign can be cancelled; '{campaign.name}' is "
                       f"{campaign.status}.", field="status")
    now = utcnow()
    campaign.status, campaign.cancelled_at, campaign.updated_at = "cancelled", now, now
    session.add(campaign)
    session.flush()
    cancelled = session.execute(sa.update(CampaignCall).where(
        CampaignCall.campaign_id == campaign.id, CampaignCall.status.in_(states.allowed_from("cancelled", "pending"))).values(
        status="cancelled", skip_reason="campaign cancelled", next_attempt_at=None, updated_at=now)).rowcount
    bump(session)
    audit.record(session, action="campaign.cancelled", actor=actor, target_type="campaign", target_id=campaign.id,
                 detail={"name": campaign.name, "calls_cancelled": cancelled})
    log.info("campaign.cancelled", campaign_id=campaign.id, calls_cancelled=cancelled)
    return campaign


def complete_if_done(*, session: Session, campaign_id: int, now: datetime | None = None) -> bool:
    """A running campaign with no call left to make or finish completes by itself; its summary stays."""
    left = session.exec(select(CampaignCall.id).where(CampaignCall.campaign_id == campaign_id,
                                                      CampaignCall.status.in_(OPEN_CALL_STATUSES)).limit(1)).first()
    if left is not None:
        return False
    now = now or utcnow()
    done = session.execute(sa.update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "running")
                           .values(status="completed", completed_at=now, updated_at=now)).rowcount
    if done:
        bump(session)
        campaign = session.get(Campaign, campaign_id)
        counts = call_counts(session=session, campaign_ids=[campaign_id]).get(campaign_id, {})
        outbox.emit(session, "campaign.completed", {
            "id": campaign_id, "name": campaign.name if campaign else "", "status": "completed",
            "completed_at": now.isoformat(), "counts": counts})
        log.info("campaign.completed", campaign_id=campaign_id)
    return bool(done)


def start_due_scheduled(*, session: Session, now: datetime) -> list[int]:
    """Start the scheduled campaigns whose start time has come; returns their ids."""
    ids = list(session.exec(select(Campaign.id).where(Campaign.status == "scheduled", Campaign.start_at <= now)))
    if ids:
        session.execute(sa.update(Campaign).where(Campaign.id.in_(ids), Campaign.status == "scheduled")
                        .values(status="running", updated_at=now))
        bump(session)
        log.info("campaigns.scheduled_started", campaign_ids=ids)
    return ids


# --- listing calls -------------------------------------------------------------------------------


def list_calls(*, session: Session, campaign_id: int | None, status: str | None = None, limit: int = 25,
               offset: int = 0) -> tuple[list[tuple[CampaignCall, str, str]], int]:
    """One page of a campaign's calls (or of the one-off calls, campaign_id None), with each
    customer's name and phone."""
    limit = max(1, min(int(limit), MAX_PAGE))
    conditions = [CampaignCall.campaign_id == campaign_id if campaign_id is not None
                  else CampaignCall.campaign_id.is_(None)]
    if status:
        statuses = [s.strip() for s in status.split(",") if s.strip()]
        bad = [s for s in statuses if s not in CALL_STATUSES]
        if bad:
            raise ValidationFailed(f"Unknown call status '{bad[0]}'.", field="status")
        conditions.append(CampaignCall.status.in_(statuses))
    rows = session.exec(select(CampaignCall, Customer.name, Customer.phone)
                        .join(Customer, Customer.id == CampaignCall.customer_id).where(*conditions)
                        .order_by(CampaignCall.updated_at.desc(), CampaignCall.id.desc()).limit(limit).offset(offset))
    total = session.exec(select(func.count()).select_from(CampaignCall).where(*conditions)).one()
    return list(rows), total


def campaign_stats(*, session: Session, campaign_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Live figures for the campaign page: counts, progress, retries waiting, calls in the last minute."""
    now = now or utcnow()
    counts = call_counts(session=session, campaign_ids=[campaign_id])[campaign_id]
    retrying = session.exec(select(func.count()).select_from(CampaignCall).where(
        CampaignCall.campaign_id == campaign_id, CampaignCall.status == "pending", CampaignCall.attempts > 0)).one()
    last_minute = session.exec(select(func.count()).select_from(CampaignCallAttempt).where(
        CampaignCallAttempt.campaign_id == campaign_id,
        CampaignCallAttempt.placed_at >= now - timedelta(seconds=60))).one()
    placed = session.exec(select(func.count()).select_from(CampaignCallAttempt).where(
        CampaignCallAttempt.campaign_id == campaign_id, CampaignCallAttempt.placed_at.is_not(None))).one()
    return {"counts": counts, "total": sum(counts.values()), "progress": progress_of(counts),
            "retrying": retrying, "calls_last_minute": last_minute, "attempts_placed": placed}


def retry_time(*, session: Session, campaign: Campaign, call: CampaignCall, outcome: str,
               now: datetime) -> datetime | None:
    """When a campaign tries a call again after `outcome`: the customer's next calling window after the
    retry spacing, if the campaign retries that outcome, attempts are left and it is still going.
    None: the outcome stands."""
    retry_on = (campaign.retry_on or "").split(",")
    if outcome not in retry_on or call.attempts >= campaign.max_attempts:
        return None
    # the campaign row may be a cached copy (the dispatcher's): its status is read afresh
    if campaign.status in ("cancelled", "completed") or session.exec(
            select(Campaign.status).where(Campaign.id == campaign.id)).one() in ("cancelled", "completed"):
        return None
    customer = session.get(Customer, call.customer_id)
    zone = customer_zone(customer.timezone if customer else None)
    return window_of(campaign).next_opening(now + timedelta(minutes=campaign.retry_spacing_minutes), zone)
