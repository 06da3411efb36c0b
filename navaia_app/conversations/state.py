"""Conversations page state: one page of calls, the call opened in the detail view, the review forms,
and the webhook inbox's failures. Live: reloads when calls, tickets or bookings change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import reflex as rx
from sqlmodel import select

from navaia_app.auth.state import AuthState, actor, authenticated, field_errors
from navaia_app.conversations import dispatch, service
from navaia_app.conversations.models import Conversation
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.validation import display_phone
from navaia_app.core.zones import business_zone, customer_zone
from navaia_app.customers.models import Customer
from navaia_app.ui.live import LiveMixin
from navaia_app.ui.paging import PagedMixin, SearchMixin

VIEWS = {  # tab -> filters
    "all": {},
    "review": {"needs_review": True},
    "booking_created": {"outcome": "booking_created"},
    "ticket_created": {"outcome": "ticket_created"},
    "not_connected": {"outcome": "not_connected"},
    "dismissed": {"outcome": "dismissed"},
    "goal_reached": {"goal_reached": True},
    "evaluation_failed": {"evaluation_failed": True},
    "handed_off": {"handed_off": True},
    "reminder": {"purpose": "reminder"},
}
OUTCOME_LABELS = {
    "booking_created": ("Booked", "green"), "ticket_created": ("Ticket raised", "blue"),
    "needs_review": ("Needs review", "orange"), "dismissed": ("Dismissed", "gray"),
    "not_connected": ("Not connected", "red"), "pending": ("In progress", "amber"),
}
INTENT_LABELS = {"book_appointment": "Book appointment", "raise_ticket": "Raise ticket"}
FACT_LABELS = {
    "intent": "Intent", "customer_name": "Name", "customer_email": "Email", "customer_phone": "Phone",
    "service": "Service", "appointment_datetime": "Appointment", "duration_minutes": "Duration (minutes)",
    "notes": "Notes", "issue_summary": "Issue", "issue_details": "Details", "priority": "Priority",
    "category": "Category",
}
REVIEW_FIELDS = ("customer_name", "customer_phone", "customer_email", "service", "starts_at", "duration_minutes",
                 "notes", "title", "description", "priority", "category")


@dataclass
class CallRow:
    id: int
    when: str
    customer: str
    duration: str
    intent: str
    outcome_label: str
    outcome_color: str
    summary: str
    direction: str
    needs_review: bool


@dataclass
class Turn:
    key: str
    role: str
    message: str
    at: str
    tools: str
    is_agent: bool


@dataclass
class Fact:
    label: str
    value: str


@dataclass
class Criterion:
    name: str
    result: str
    color: str
    rationale: str


RESULT_COLORS = {"success": "green", "failure": "red", "unknown": "gray"}


@dataclass
class InboxRow:
    id: int
    event_type: str
    external_id: str
    error: str
    attempts: int
    received: str


def _zone() -> ZoneInfo:
    return business_zone()


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(_zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _duration(seconds: int | None) -> str:
    if not seconds:
        return "–"
    return f"{seconds // 60}:{seconds % 60:02d}"


def intent_label(intent: str | None) -> str:
    if not intent:
        return "–"
    return INTENT_LABELS.get(intent, intent.replace("_", " ").capitalize())


def _customer_label(customer: Customer | None, call: Conversation) -> str:
    if customer is not None:
        return customer.name
    if call.caller_phone:
        return display_phone(call.caller_phone)
    return "Unknown caller"


class ConversationsState(PagedMixin, SearchMixin, LiveMixin, AuthState):
    _live_topics: tuple[str, ...] = ("conversations", "tickets", "bookings")

    rows: list[CallRow] = []
    view: str = "all"
    review_count: int = 0
    load_error: str = ""

    failed_events: list[InboxRow] = []
    failed_count: int = 0
    pending_count: int = 0
    inbox_open: bool = False

    # the call in the detail view (0: none)
    call_id: int = 0
    call_title: str = ""
    call_when: str = ""
    call_duration: str = ""
    call_customer: str = ""
    call_customer_id: int = 0
    call_phone: str = ""
    call_direction: str = ""
    call_intent: str = ""
    call_outcome_label: str = ""
    call_outcome_color: str = "gray"
    call_needs_review: bool = False
    call_reason: str = ""
    call_summary: str = ""
    call_external_id: str = ""
    call_audio_url: str = ""
    call_booking_id: int = 0
    call_booking: str = ""
    call_ticket_id: int = 0
    call_ticket: str = ""
    call_turns: list[Turn] = []
    call_facts: list[Fact] = []
    call_criteria: list[Criterion] = []
    call_handed_off: str = ""
    call_cost: str = ""
    call_goal: bool = False

    review_mode: str = ""  # "", "booking", "ticket", "dismiss"
    review_values: dict[str, str] = {}
    review_errors: dict[str, str] = {}
    review_zone: str = ""

    # --- loading -------------------------------------------------------------------------------

    def _filters(self) -> dict:
        return {**VIEWS.get(self.view, {}), "q": self.search or None}

    @rx.var
    def export_url(self) -> str:
        """The CSV export of the list as filtered now (the same filters as the REST list)."""
        from urllib.parse import urlencode

        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in VIEWS.get(self.view, {}).items()}
        if self.search:
            params["q"] = self.search
        return "/api/v1/conversations/export.csv" + (f"?{urlencode(params)}" if params else "")

    def _reload(self) -> None:
        try:
            with session_scope() as session:
                items, total = service.list_conversations(session=session, limit=self.page_size,
                                                          offset=self.offset, **self._filters())
                self._assign(total=total)
                if not items and total and self.page > 1:
                    self._clamp_page()
                    items, _ = service.list_conversations(session=session, limit=self.page_size,
                                                          offset=self.offset, **self._filters())
                ids = {c.customer_id for c in items if c.customer_id}
                customers = {c.id: c for c in session.exec(select(Customer).where(Customer.id.in_(ids)))} \
                    if ids else {}
                self._assign(rows=[self._row(c, customers.get(c.customer_id)) for c in items])
                self._assign(review_count=service.count_needs_review(session=session))
                counts = service.inbox_counts(session=session)
                self.failed_count, self.pending_count = counts["failed"], counts["pending"]
                if self.inbox_open:
                    self._load_inbox(session)
            self._assign(load_error="")
        except DomainError as exc:
            self.load_error = exc.message

    @staticmethod
    def _row(call: Conversation, customer) -> CallRow:
        label, color = OUTCOME_LABELS.get(call.outcome, (call.outcome, "gray"))
        summary = call.summary or call.review_reason or ""
        return CallRow(
            id=call.id, when=_when(call.started_at or call.created_at),
            customer=customer.name if customer is not None else (
                display_phone(call.caller_phone) if call.caller_phone else "Unknown caller"),
            duration=_duration(call.duration_seconds), intent=intent_label(call.intent), outcome_label=label,
            outcome_color=color, summary=summary[:160] + ("…" if len(summary) > 160 else ""),
            direction=call.direction or "", needs_review=call.needs_review,
        )

    def _load_inbox(self, session) -> None:
        items, _ = service.list_inbox_events(session=session, status="failed", limit=20)
        self.failed_events = [InboxRow(id=e.id, event_type=e.event_type, external_id=e.external_id,
                                       error=(e.last_error or "")[:300], attempts=e.attempts,
                                       received=_when(e.received_at)) for e in items]

    def _load_call(self) -> None:
        from navaia_app.bookings.models import Booking
        from navaia_app.tickets.models import Ticket

        with session_scope() as session:
            call = session.get(Conversation, self.call_id)
            if call is None:
                self.call_id = 0
                return
            customer = session.get(Customer, call.customer_id) if call.customer_id else None
            label, color = OUTCOME_LABELS.get(call.outcome, (call.outcome, "gray"))
            self.call_title = call.title or f"Call with {_customer_label(customer, call)}"
            self.call_when = _when(call.started_at or call.created_at)
            self.call_duration = _duration(call.duration_seconds)
            self.call_customer = _customer_label(customer, call)
            self.call_customer_id = customer.id if customer else 0
            self.call_phone = display_phone(call.caller_phone) if call.caller_phone else ""
            self.call_direction = {"inbound": "Inbound call", "outbound": "Outbound call", "web": "Browser call",
                                   "phone": "Phone call"}.get(call.direction or "", "Call")
            self.call_intent = intent_label(call.intent)
            self.call_outcome_label, self.call_outcome_color = label, color
            self.call_needs_review = call.needs_review
            self.call_reason = call.review_reason or ""
            self.call_summary = call.summary
            self.call_external_id = call.external_id
            self.call_audio_url = f"/api/v1/conversations/{call.id}/audio" if call.audio_path else ""
            booking = session.get(Booking, call.booking_id) if call.booking_id else None
            ticket = session.get(Ticket, call.ticket_id) if call.ticket_id else None
            zone = customer_zone(customer)
            self.call_booking_id = booking.id if booking else 0
            self.call_booking = (f"{booking.service}, {booking.starts_at.astimezone(zone):%a %Y-%m-%d %H:%M} "
                                 f"{booking.starts_at.astimezone(zone).tzname()} ({booking.status})") if booking else ""
            self.call_ticket_id = ticket.id if ticket else 0
            self.call_ticket = f"{ticket.title} ({ticket.status.replace('_', ' ')}, {ticket.priority})" \
                if ticket else ""
            self.call_turns = [
                Turn(key=f"{i}", role=t.get("role", ""), message=t.get("message", ""),
                     at=_duration(t.get("time_in_call_secs")) if t.get("time_in_call_secs") else "0:00",
                     tools=", ".join(t.get("tool_calls") or []), is_agent=t.get("role") == "agent")
                for i, t in enumerate(call.transcript or [])
            ]
            self.call_facts = [Fact(label=FACT_LABELS.get(k, k.replace("_", " ").capitalize()), value=str(v))
                               for k, v in (call.data_collection or {}).items()]
            self.call_criteria = [
                Criterion(name=name, result=entry.get("result", "unknown"),
                          color=RESULT_COLORS.get(entry.get("result", "unknown"), "gray"),
                          rationale=entry.get("rationale", ""))
                for name, entry in sorted((call.evaluation or {}).items())]
            self.call_handed_off = (f"Handed off to {display_phone(call.handed_off_to) if call.handed_off_to else 'a person'}"
                                    f" at {_when(call.handed_off_at)}") if call.handed_off_at else ""
            self.call_cost = f"{call.cost} credits" if call.cost is not None else ""
            self.call_goal = call.goal_reached

    def _open_from_url(self) -> None:
        try:
            wanted = int(self.router.url.query_parameters.get("id", "0") or 0)
        except (ValueError, AttributeError):
            wanted = 0
        if wanted > 0:
            self.call_id = wanted
            self.review_mode, self.review_errors = "", {}
            self._load_call()

    @rx.event
    @authenticated
    def load(self):
        self._remember_versions()
        self._reload()
        self._open_from_url()

    @rx.event
    @authenticated(touch=False)  # polling: not user activity
    def tick(self, _value=None):
        if self._changed():
            self._reload()
            if self.call_id:
                self._load_call()

    @rx.event
    @authenticated
    def set_view(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.view = value if isinstance(value, str) and value in VIEWS else "all"
        self._first_page()

    # --- the detail view -------------------------------------------------------------------------

    @rx.event
    @authenticated
    def open_call(self, call_id: int):
        self.call_id = call_id
        self.review_mode, self.review_errors = "", {}
        self._load_call()

    @rx.event
    def set_call_open(self, value: bool):
        if not value:
            self.call_id, self.review_mode, self.review_errors = 0, "", {}

    # --- review ------------------------------------------------------------------------------------

    @rx.event
    @authenticated
    def start_review(self, mode: str):
        if mode not in ("booking", "ticket", "dismiss"):
            return
        with session_scope() as session:
            call = session.get(Conversation, self.call_id)
            if call is None:
                return rx.toast.error("This call no longer exists.")
            values = service.review_defaults(session=session, conversation=call)
        self.review_zone = values.pop("timezone", "")
        self.review_values = {k: values.get(k, "") for k in REVIEW_FIELDS}
        self.review_mode, self.review_errors = mode, {}

    @rx.event
    def cancel_review(self):
        self.review_mode, self.review_errors = "", {}

    def _after_review(self, message: str):
        self.review_mode, self.review_errors = "", {}
        self._reload()
        self._load_call()
        return rx.toast.success(message)

    def _form(self, form_data: dict) -> dict[str, str]:
        data = {k: str(form_data.get(k, "") or "") for k in REVIEW_FIELDS if k in form_data}
        self.review_values = {**self.review_values, **data}
        return data

    def _resolve(self, form_data: dict, resolve, done: str):
        """Resolve the call under review: `resolve(session, form, customer)` returns the id of the record it made
        (`customer`: the name, phone and email the form gives); its field errors land beside their fields."""
        data = self._form(form_data)
        customer = {k: data.get(k, "") for k in ("customer_name", "customer_phone", "customer_email")}
        try:
            with session_scope() as session:
                record_id = resolve(session, data, customer)
        except DomainError as exc:
            self.review_errors = {("customer_phone" if k == "phone" else k): v for k, v in field_errors(exc).items()}
            return None
        return self._after_review(done.format(id=record_id))

    @rx.event
    @authenticated
    def submit_booking(self, form_data: dict):
        return self._resolve(form_data, lambda session, data, customer: service.book_from_call(
            session=session, conversation_id=self.call_id, user_id=actor().id, **customer,
            service=data.get("service", ""), starts_at=data.get("starts_at", ""),
            duration_minutes=data.get("duration_minutes", ""), notes=data.get("notes", "")).booking_id,
            "Booking #{id} created from the call.")

    @rx.event
    @authenticated
    def submit_ticket(self, form_data: dict):
        return self._resolve(form_data, lambda session, data, customer: service.ticket_from_call(
            session=session, conversation_id=self.call_id, user_id=actor().id, **customer,
            title=data.get("title", ""), description=data.get("description", ""),
            priority=data.get("priority", "medium") or "medium", category=data.get("category", "")).ticket_id,
            "Ticket #{id} raised from the call.")

    @rx.event
    @authenticated
    def submit_dismiss(self, form_data: dict):
        try:
            with session_scope() as session:
                service.dismiss_review(session=session, conversation_id=self.call_id, user_id=actor().id,
                                       note=str(form_data.get("note", "") or "")[:300])
        except DomainError as exc:
            self.review_errors = {"_form": exc.message}
            return
        return self._after_review("Call dismissed from the review queue.")

    # --- the inbox ----------------------------------------------------------------------------------

    @rx.event
    @authenticated
    def toggle_inbox(self):
        self.inbox_open = not self.inbox_open
        if self.inbox_open:
            with session_scope() as session:
                self._load_inbox(session)

    @rx.event
    @authenticated
    def retry_event(self, event_id: int):
        try:
            with session_scope() as session:
                service.retry_inbox_event(session=session, event_id=event_id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        queued = dispatch.schedule_inbox_event(event_id)
        self._reload()
        if queued:
            return rx.toast.success("Queued again; the worker runs it in a moment.")
        return rx.toast.warning("Marked to run again; background jobs are unavailable, so it runs once Redis "
                                "is back.")


class ReviewBadgeState(AuthState):
    """The sidebar's count of calls waiting for review (refreshed on each page and every few seconds)."""

    needs_review: int = 0

    @rx.event
    @authenticated(touch=False)  # polling: not user activity
    def refresh(self, _value=None):
        with session_scope() as session:
            self._assign(needs_review=service.count_needs_review(session=session))


