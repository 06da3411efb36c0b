"""Reflex state of the campaign pages. Thin: every rule is in service.py; one page of rows at a time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import reflex as rx

from navaia_app.auth.state import AuthState, actor, authenticated, field_errors
from navaia_app.campaigns import service
from navaia_app.campaigns.models import DEFAULTS, RETRYABLE_OUTCOMES, WEEKDAYS, CampaignIn, CampaignPatch
from navaia_app.core import uploads
from navaia_app.core.csvfile import MAX_UPLOAD_BYTES
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError, ValidationFailed
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.validation import display_phone
from navaia_app.core.zones import business_zone
from navaia_app.customers import service as customers_service
from navaia_app.outreach import calls
from navaia_app.outreach.outcomes import DONE_CALL_STATUSES
from navaia_app.ui.actions import service_action
from navaia_app.ui.confirm import DeleteConfirmMixin, FormDialogMixin
from navaia_app.ui.live import LivePageMixin
from navaia_app.ui.paging import PagedMixin, SearchMixin, StatusFilterMixin
from navaia_app.ui.timefmt import ViewerZoneMixin, fmt_short, fmt_when

STATUS_LABELS = {"draft": "Draft", "scheduled": "Scheduled", "running": "Running", "paused": "Paused",
                 "completed": "Completed", "cancelled": "Cancelled"}
CALL_LABELS = {"pending": "Waiting", "queued": "Queued", "ringing": "Ringing", "in_progress": "In progress",
               "completed": "Completed", "busy": "Busy", "no_answer": "No answer", "failed": "Failed",
               "voicemail": "Voicemail", "voicemail_left": "Voicemail left", "skipped": "Skipped", "cancelled": "Cancelled"}
AUDIENCE_LABELS = {"all": "All customers", "filters": "Customers matching filters", "customers": "Hand-picked",
                   "csv": "CSV upload"}
DAY_LABELS = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}
PICK_PAGE = 8


def _default_form() -> dict[str, str]:
    """The form's number and time fields as a new campaign starts (campaigns.models.DEFAULTS)."""
    d = DEFAULTS
    return {"calls_per_second": f"{d.calls_per_second:g}", "max_concurrent_calls": str(d.max_concurrent_calls),
            "max_attempts": str(d.max_attempts), "retry_spacing_minutes": str(d.retry_spacing_minutes),
            "calling_window_start": d.calling_window_start, "calling_window_end": d.calling_window_end}


@dataclass
class CampaignRow:
    id: int
    name: str
    status: str
    status_label: str
    status_reason: str
    audience: str
    total: int
    done: int
    progress: float
    created: str


@dataclass
class PickRow:
    id: int
    name: str
    phone: str
    do_not_call: bool


@dataclass
class CallRow:
    id: int
    customer_id: int
    customer: str
    phone: str
    status: str
    status_label: str
    attempts: int
    outcome: str
    duration: str
    conversation_id: int
    updated: str


@dataclass
class CountTile:
    key: str
    label: str
    value: int


def _row(campaign, counts: dict[str, int], zone: ZoneInfo) -> CampaignRow:
    total = sum(counts.values())
    done = sum(counts[s] for s in DONE_CALL_STATUSES)
    audience = campaign.audience or {}
    label = AUDIENCE_LABELS.get(audience.get("type", "all"), "All customers")
    if audience.get("type") == "customers":
        label = f"{len(audience.get('customer_ids') or [])} hand-picked"
    elif audience.get("type") == "csv":
        label = f"CSV · {len(audience.get('rows') or [])} rows"
    return CampaignRow(id=campaign.id, name=campaign.name, status=campaign.status,
                       status_label=STATUS_LABELS[campaign.status], status_reason=campaign.status_reason or "",
                       audience=label, total=total, done=done, progress=service.progress_of(counts),
                       created=fmt_short(campaign.created_at, zone))


def _variables_text(variables: dict) -> str:
    return "\n".join(f"{k}={v}" for k, v in (variables or {}).items())


def _parse_variables(text: str) -> dict[str, str]:
    out = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ValidationFailed(f"Line {number}: write variables as name=value.", field="variables")
        out[name.strip()] = value.strip()
    return out


# The lifecycle buttons: the service call, what the list says after it, and what the campaign's own page says.
LIFECYCLE = {
    "run": (service.start_campaign, "{name} is running.", "The campaign is running."),
    "pause": (service.pause_campaign, "{name} is paused; calls already ringing finish.",
              "Paused; calls already ringing finish."),
    "resume": (service.resume_campaign, "{name} resumed.", "Resumed."),
    "cancel": (service.cancel_campaign, "{name} is cancelled.", "Cancelled; calls already ringing finish."),
}


def _lifecycle(action: str, campaign_id: int, *, then, on_list: bool):
    """Run, pause, resume or cancel a campaign (LIFECYCLE names them), from the list or from its own page."""
    if action not in LIFECYCLE:
        return None
    change, listed, own_page = LIFECYCLE[action]
    return service_action(lambda s: change(session=s, campaign_id=campaign_id, actor=actor()).name, then=then,
                          done=lambda name: (listed if on_list else own_page).format(name=name))


class CampaignsState(FormDialogMixin, DeleteConfirmMixin, LivePageMixin, ViewerZoneMixin,
                     PagedMixin, SearchMixin, StatusFilterMixin, AuthState):
    _live_topics = ("campaigns",)

    rows: list[CampaignRow] = []
    load_error: str = ""

    # the create / edit dialog
    audience_type: str = "all"
    days: list[str] = DEFAULTS.days
    retry_on: list[str] = DEFAULTS.retry_outcomes
    picked_ids: list[int] = []
    pick_search: str = ""
    pick_rows: list[PickRow] = []
    audience_preview: str = ""
    csv_summary: str = ""
    csv_problems: list[dict[str, str]] = []
    _csv_file: str = ""  # core.uploads name of the uploaded call list (the file, not its bytes, in state)
    _csv_name: str = ""


    @rx.var
    def business_timezone(self) -> str:
        return get_settings().business_timezone

    def _reload(self) -> None:
        zone = self._zone()
        try:
            with session_scope() as session:
                items, total = service.list_campaigns(session=session, status=self.status_filter or None,
                                                      q=self.search, limit=self.page_size, offset=self.offset)
                self._assign(total=total)
                if not items and total and self.page > 1:
                    self._clamp_page()
                    items, _ = service.list_campaigns(session=session, status=self.status_filter or None,
                                                      q=self.search, limit=self.page_size, offset=self.offset)
                counts = service.call_counts(session=session, campaign_ids=[c.id for c in items])
                self._assign(rows=[_row(c, counts[c.id], zone) for c in items])
            self._assign(load_error="")
        except DomainError as exc:
            self.load_error = exc.message
        self._remember_versions()

    @rx.event
    @authenticated
    def load(self):
        self._reload()

    # --- lifecycle actions (the list page and the campaign page share them) ---

    @rx.event
    @authenticated
    def lifecycle(self, action: str, campaign_id: int):
        return _lifecycle(action, campaign_id, then=self._reload, on_list=True)

    @rx.event
    @authenticated
    def duplicate(self, campaign_id: int):
        return service_action(
            lambda s: service.duplicate_campaign(session=s, campaign_id=campaign_id, created_by_id=actor().id).name,
            then=self._reload, done=lambda name: f"Created the draft {name}.")

    # --- delete ---

    def _delete(self, session, record_id: int, user) -> None:
        service.delete_campaign(session=session, campaign_id=record_id, actor=user)

    # --- the create / edit dialog ---

    def _reset_form(self) -> None:
        self.form_values, self.form_errors = {}, {}
        self.audience_type, self.days, self.retry_on = "all", DEFAULTS.days, DEFAULTS.retry_outcomes
        self.picked_ids, self.pick_search, self.pick_rows = [], "", []
        uploads.discard(self._csv_file)
        self.csv_summary, self.csv_problems, self._csv_file, self._csv_name = "", [], "", ""
        self.audience_preview = ""

    @rx.event
    @authenticated
    def open_new(self):
        self._reset_form()
        self.editing_id = 0
        self.form_values = _default_form()
        self.form_open = True
        yield  # the dialog shows at once; the audience count (a query over every customer) follows
        self._preview()

    @rx.event
    @authenticated
    def open_edit(self, campaign_id: int):
        self._reset_form()
        try:
            with session_scope() as session:
                c = service.get_campaign(session=session, campaign_id=campaign_id)
                if c.status != "draft":
                    return rx.toast.error("Only a draft campaign can be edited; duplicate it to change it.")
                start = ""
                if c.start_at:
                    start = c.start_at.astimezone(business_zone()).strftime("%Y-%m-%dT%H:%M")
                self.form_values = {
                    "name": c.name, "purpose": c.purpose, "voicemail_message": c.voicemail_message or "",
                    "calls_per_second": f"{c.calls_per_second:g}",
                    "max_concurrent_calls": str(c.max_concurrent_calls), "max_attempts": str(c.max_attempts),
                    "retry_spacing_minutes": str(c.retry_spacing_minutes),
                    "calling_window_start": c.calling_window_start, "calling_window_end": c.calling_window_end,
                    "start_at": start, "variables": _variables_text(c.variables),
                    "q": c.audience.get("q", ""), "timezone": c.audience.get("timezone", ""),
                    "phone_prefix": c.audience.get("phone_prefix", ""),
                }
                self.audience_type = c.audience.get("type", "all")
                self.days = [d for d in c.calling_days.split(",") if d]
                self.retry_on = [r for r in c.retry_on.split(",") if r]
                self.picked_ids = list(c.audience.get("customer_ids") or [])
                if self.audience_type == "csv":
                    rows = c.audience.get("rows") or []
                    columns = c.audience.get("columns") or []
                    self.csv_summary = (f"{c.audience.get('file_name') or 'CSV'}: {len(rows)} rows; variables: "
                                        f"{', '.join(columns) or 'none'}")
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.editing_id = campaign_id
        self._search_customers()
        self._preview()
        self.form_open = True

    @rx.event
    @authenticated
    def set_audience_type(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        if value in service.AUDIENCE_TYPES:
            self.audience_type = value
        if value == "customers" and not self.pick_rows:
            self._search_customers()
        self._preview()

    @rx.event
    def toggle_day(self, day: str):
        self.days = [d for d in WEEKDAYS if (d in self.days) != (d == day)]

    @rx.event
    def toggle_retry(self, outcome: str):
        self.retry_on = [o for o in RETRYABLE_OUTCOMES if (o in self.retry_on) != (o == outcome)]

    @rx.event
    @authenticated
    def set_filter_value(self, name: str, value: str):
        if name in ("q", "timezone", "phone_prefix"):
            self.form_values = {**self.form_values, name: value[:200]}
            self._preview()

    def _audience(self) -> dict:
        kind = self.audience_type
        if kind == "filters":
            return {"type": "filters", **{k: self.form_values.get(k, "").strip()
                                          for k in ("q", "timezone", "phone_prefix")
                                          if self.form_values.get(k, "").strip()}}
        if kind == "customers":
            return {"type": "customers", "customer_ids": list(self.picked_ids)}
        return {"type": kind}

    def _preview(self) -> None:
        try:
            with session_scope() as session:
                if self.audience_type == "csv":
                    self.audience_preview = ""
                    return
                audience = self._audience()
                if audience["type"] == "filters" and len(audience) == 1:
                    self.audience_preview = "Add a filter to choose customers."
                    return
                size = service.audience_size(session=session, audience=audience)
            self.audience_preview = f"{size:,} customer{'s' if size != 1 else ''} (do-not-call and invalid " \
                                    "numbers are excluded when the campaign runs)"
        except DomainError as exc:
            self.audience_preview = exc.message

    # hand-picking
    def _search_customers(self) -> None:
        with session_scope() as session:
            items, _ = customers_service.list_customers(session=session, q=self.pick_search, limit=PICK_PAGE)
            self.pick_rows = [PickRow(id=c.id, name=c.name, phone=display_phone(c.phone), do_not_call=c.do_not_call)
                              for c in items]

    @rx.event
    @authenticated
    def set_pick_search(self, value: str):
        self.pick_search = value[:200]
        self._search_customers()

    @rx.event
    @authenticated
    def toggle_pick(self, customer_id: int):
        if customer_id in self.picked_ids:
            self.picked_ids = [i for i in self.picked_ids if i != customer_id]
        else:
            self.picked_ids = [*self.picked_ids, customer_id]
        self._preview()

    # CSV
    @rx.event
    @authenticated
    async def upload_csv(self, files: list[rx.UploadFile]):
        self.csv_summary, self.csv_problems = "", []
        if not files:
            self.form_errors = {**self.form_errors, "audience": "Choose a CSV file first."}
            return
        content = await files[0].read(MAX_UPLOAD_BYTES + 1)
        try:
            # parsing up to 20 MB takes a while: in a thread, not on the event loop every tab shares (the service
            # checks the size)
            parsed = await asyncio.to_thread(service.parse_audience_csv, content)
        except DomainError as exc:
            self.form_errors = {**self.form_errors, "audience": exc.message}
            return
        uploads.discard(self._csv_file)
        self._csv_file = await asyncio.to_thread(uploads.stash, content)
        self._csv_name = files[0].name or "list.csv"
        self.form_errors = {k: v for k, v in self.form_errors.items() if k != "audience"}
        self.csv_summary = (f"{self._csv_name}: {len(parsed.rows):,} rows; variables: "
                            f"{', '.join(parsed.columns) or 'none'}")
        self.csv_problems = [{"row": str(p["row"]), "reason": p["reason"]} for p in parsed.problems[:100]]

    @rx.event
    @authenticated
    async def save(self, form_data: dict):
        values = {k: str(form_data.get(k, "") or "") for k in (
            "name", "purpose", "calls_per_second", "max_concurrent_calls", "max_attempts", "retry_spacing_minutes",
            "calling_window_start", "calling_window_end", "start_at", "variables", "voicemail_message")}
        self.form_values = {**self.form_values, **values}
        try:
            variables = _parse_variables(values["variables"])
            start_at = None
            if values["start_at"].strip():
                try:
                    local = datetime.fromisoformat(values["start_at"].strip())
                except ValueError as exc:
                    raise ValidationFailed("Enter a valid start time.", field="start_at") from exc
                start_at = local.replace(tzinfo=business_zone())
            audience = self._audience()
            if audience["type"] == "csv":
                if not self._csv_file and not (self.editing_id and self.csv_summary):
                    raise ValidationFailed("Upload a CSV file with the customers to call.", field="audience")
                audience = None  # set from the file below
            fields = dict(
                name=values["name"], purpose=values["purpose"], voicemail_message=values["voicemail_message"],
                **{key: values[key] or default for key, default in _default_form().items()},
                calling_days=list(self.days), retry_on=list(self.retry_on), start_at=start_at, variables=variables,
            )
            editing_id, csv_file, csv_name = self.editing_id, self._csv_file, self._csv_name
            use_csv = self.audience_type == "csv" and bool(csv_file)

            def store() -> tuple[str, int]:
                with session_scope() as session:
                    if editing_id:
                        patch = CampaignPatch(**fields, **({"audience": audience} if audience else {}))
                        campaign = service.update_campaign(session=session, campaign_id=editing_id, patch=patch)
                    else:
                        campaign = service.create_campaign(
                            session=session, campaign_in=CampaignIn(**fields, audience=audience or {"type": "all"}),
                            created_by_id=actor().id)
                    if use_csv:
                        content = uploads.read(csv_file)
                        if content is None:
                            raise ValidationFailed("The uploaded file is gone; upload it again.", field="audience")
                        service.set_csv_audience(session=session, campaign_id=campaign.id, content=content,
                                                 file_name=csv_name)
                    return campaign.name, campaign.id

            # a call list of up to 20 MB is parsed and stored here: in a thread, not on the event loop
            name, campaign_id = await asyncio.to_thread(store)
        except DomainError as exc:
            self.form_errors = field_errors(exc)
            return
        except ValueError as exc:  # pydantic refused a number
            self.form_errors = {"_form": str(exc).splitlines()[-1][:200]}
            return
        message = f"Saved {name}." if self.editing_id else f"Created the draft {name}."
        self.form_open, self.form_errors = False, {}
        uploads.discard(self._csv_file)
        self._csv_file = ""
        self._reload()
        return [rx.toast.success(message), rx.redirect(f"/campaigns/{campaign_id}")] if not self.editing_id \
            else rx.toast.success(message)


class CampaignDetailState(LivePageMixin, ViewerZoneMixin, PagedMixin, StatusFilterMixin, AuthState):
    """The campaign page: live progress and one page of its calls."""

    _live_topics = ("campaigns",)

    found: bool = True
    campaign_id: int = 0
    name: str = ""
    purpose: str = ""
    status: str = ""
    status_label: str = ""
    status_reason: str = ""
    audience: str = ""
    window: str = ""
    pacing: str = ""
    retries: str = ""
    started: str = ""
    progress: float = 0
    total_calls: int = 0
    done_calls: int = 0
    calls_per_minute: int = 0
    retrying: int = 0
    tiles: list[CountTile] = []
    excluded: list[dict[str, str]] = []
    calls: list[CallRow] = []

    def _campaign_param(self) -> int:
        try:
            return int(self.router.page.params.get("campaign_id", "0") or 0)
        except (TypeError, ValueError):
            return 0

    def _reload(self) -> None:
        zone = self._zone()
        self.campaign_id = self._campaign_param()
        with session_scope() as session:
            try:
                c = service.get_campaign(session=session, campaign_id=self.campaign_id)
            except DomainError:
                self.found = False
                return
            self.found = True
            now = utcnow()
            stats = service.campaign_stats(session=session, campaign_id=c.id, now=now)
            counts = stats["counts"]
            self.name, self.purpose, self.status = c.name, c.purpose, c.status
            self.status_label, self.status_reason = STATUS_LABELS[c.status], c.status_reason or ""
            self.audience = _row(c, counts, zone).audience
            days = ", ".join(DAY_LABELS[d] for d in c.calling_days.split(",") if d in DAY_LABELS)
            span = "all day" if c.calling_window_start == c.calling_window_end else \
                f"{c.calling_window_start}–{c.calling_window_end}"
            self.window = f"{span} in each customer's time zone · {days}"
            self.pacing = f"{c.calls_per_second:g} calls/s · up to {c.max_concurrent_calls} at once"
            retry_on = ", ".join(CALL_LABELS[r].lower() for r in c.retry_on.split(",") if r in CALL_LABELS)
            self.retries = (f"{c.max_attempts} attempts, {c.retry_spacing_minutes} min apart, after "
                            f"{retry_on or 'nothing'}") if c.max_attempts > 1 else "1 attempt (no retries)"
            self.started = fmt_when(c.started_at, zone) if c.started_at else ""
            self.progress = stats["progress"]
            self.total_calls = stats["total"]
            self.done_calls = sum(counts[s] for s in DONE_CALL_STATUSES)
            self.calls_per_minute = stats["calls_last_minute"]
            self.retrying = stats["retrying"]
            waiting = counts["pending"] + counts["queued"]
            self.tiles = [CountTile("queued", "Queued", waiting)] + [
                CountTile(key, CALL_LABELS[key], counts[key])
                for key in ("ringing", "in_progress", "completed", "busy", "no_answer", "failed", "voicemail",
                            "voicemail_left", "skipped")] + ([CountTile("cancelled", "Cancelled", counts["cancelled"])]
                                           if counts["cancelled"] else [])
            self.excluded = [{"reason": k.replace("_", " "), "count": str(v)}
                             for k, v in (c.snapshot or {}).get("excluded", {}).items()]
            status = "pending,queued" if self.status_filter == "queued" else self.status_filter or None
            rows, total = service.list_calls(session=session, campaign_id=c.id, status=status,
                                             limit=self.page_size, offset=self.offset)
            self._assign(total=total)
            self.calls = [CallRow(
                id=call.id, customer_id=call.customer_id, customer=name, phone=display_phone(phone),
                status=call.status,
                status_label=("Retry scheduled" if call.status == "pending" and call.attempts else
                              CALL_LABELS[call.status]),
                attempts=call.attempts,
                outcome=call.last_detail or call.skip_reason or (CALL_LABELS.get(call.last_outcome or "", "")),
                duration=f"{call.duration_seconds // 60}:{call.duration_seconds % 60:02d}"
                if call.duration_seconds is not None else "",
                conversation_id=call.conversation_id or 0, updated=fmt_short(call.updated_at, zone, now),
            ) for call, name, phone in rows]
        self._remember_versions()

    @rx.event
    @authenticated
    def load(self):
        self.page, self.status_filter = 1, ""
        self._reload()

    @rx.event
    @authenticated
    def lifecycle(self, action: str, _campaign_id: int = 0):
        return _lifecycle(action, self.campaign_id, then=self._reload, on_list=False)

    @rx.event
    @authenticated
    def duplicate(self, _campaign_id: int = 0):
        try:
            with session_scope() as session:
                copy = service.duplicate_campaign(session=session, campaign_id=self.campaign_id,
                                                  created_by_id=actor().id)
                copy_id = copy.id
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return [rx.toast.success("Created a draft copy."), rx.redirect(f"/campaigns/{copy_id}")]

    @rx.event
    @authenticated
    def hang_up(self, call_id: int):
        return service_action(lambda s: calls.hang_up_call(session=s, campaign_call_id=call_id),
                              then=self._reload, done="Hung up.", toast=rx.toast.info)
