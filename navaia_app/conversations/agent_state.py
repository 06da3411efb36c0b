"""State of the Support Agent page (a browser call with the voice agent) and the Playground page
(a composed call outcome sent through the signed webhook)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import reflex as rx
from sqlmodel import select

from navaia_app.auth.state import AuthState, authenticated
from navaia_app.conversations import playground
from navaia_app.conversations.models import Conversation
from navaia_app.conversations.state import OUTCOME_LABELS, intent_label
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.zones import business_zone
from navaia_app.customers.models import Customer
from navaia_app.ui.live import LiveMixin

log = get_logger(__name__)

PLAYGROUND_FIELDS = ("customer_name", "customer_phone", "customer_email", "service", "appointment",
                     "duration_minutes", "notes", "issue_summary", "issue_details", "priority", "category")


@dataclass
class CallResult:
    external_id: str
    sent: str  # what the webhook answered
    state: str  # waiting | done | rejected
    conversation_id: int
    outcome_label: str
    outcome_color: str
    detail: str


@dataclass
class CustomerOption:
    id: str
    label: str


def own_webhook_url() -> str:
    """The app's own webhook, over loopback HTTP on the port the backend listens on."""
    from reflex.config import get_config

    port = get_config().backend_port or 8000
    return f"http://127.0.0.1:{port}/api/webhooks/elevenlabs"


def _result_for(session, external_id: str, sent: str) -> CallResult:
    from navaia_app.bookings.models import Booking
    from navaia_app.tickets.models import Ticket

    call = session.exec(select(Conversation).where(Conversation.external_id == external_id)).first()
    if call is None or call.outcome == "pending":
        return CallResult(external_id=external_id, sent=sent, state="waiting", conversation_id=0,
                          outcome_label="Waiting for the worker…", outcome_color="amber",
                          detail="Stored in the inbox; the background worker turns it into a record.")
    label, color = OUTCOME_LABELS.get(call.outcome, (call.outcome, "gray"))
    if call.booking_id and (booking := session.get(Booking, call.booking_id)):
        zone = business_zone()
        detail = f"Booking #{booking.id}: {booking.service}, {booking.starts_at.astimezone(zone):%a %d %b %H:%M} " \
                 f"{booking.starts_at.astimezone(zone).tzname()}"
    elif call.ticket_id and (ticket := session.get(Ticket, call.ticket_id)):
        detail = f"Ticket #{ticket.id}: {ticket.title} ({ticket.priority})"
    else:
        detail = call.review_reason or intent_label(call.intent)
    return CallResult(external_id=external_id, sent=sent, state="done", conversation_id=call.id,
                      outcome_label=label, outcome_color=color, detail=detail)


class PlaygroundState(LiveMixin, AuthState):
    _live_topics: tuple[str, ...] = ("conversations",)
    _sent: list[tuple[str, str]] = []  # (external id, what the webhook answered), newest first

    intent: str = "book_appointment"
    values: dict[str, str] = {}
    customer_options: list[CustomerOption] = []
    free_times: list[str] = []
    secret_configured: bool = False
    webhook_url: str = ""
    results: list[CallResult] = []
    sending: bool = False
    error: str = ""

    def _defaults(self, session) -> None:
        from navaia_app.bookings import service as bookings

        zone = business_zone()
        now = utcnow()
        try:
            slots = bookings.free_slots(session=session, start=now, end=now + timedelta(days=14))
        except DomainError:
            slots = []
        self.free_times = [s.astimezone(zone).strftime("%Y-%m-%dT%H:%M") for s in slots[:6]]
        first = self.free_times[0] if self.free_times else (
            datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(10, 0)).strftime("%Y-%m-%dT%H:%M"))
        if not self.values:
            self.values = {"customer_name": "Maria Lopez", "customer_phone": "+1 415 555 0123",
                           "customer_email": "maria.lopez@example.com", "service": "Consultation",
                           "appointment": first, "duration_minutes": "30", "notes": "",
                           "issue_summary": "Invoice charged twice",
                           "issue_details": "The November invoice was charged twice; please refund one.",
                           "priority": "high", "category": "billing"}
        customers = session.exec(select(Customer).order_by(Customer.name).limit(50)).all()
        self.customer_options = [CustomerOption(id=str(c.id), label=f"{c.name} · {c.phone}") for c in customers]

    def _refresh_results(self) -> None:
        with session_scope() as session:
            self.results = [_result_for(session, external_id, sent) for external_id, sent in self._sent[:5]]

    @rx.event
    @authenticated
    def load(self):
        settings = get_settings()
        self.secret_configured = bool(settings.elevenlabs_webhook_secret)
        self.webhook_url = own_webhook_url()
        self._remember_versions()
        with session_scope() as session:
            self._defaults(session)
        self._refresh_results()

    @rx.event
    @authenticated(touch=False)  # polling: not user activity
    def tick(self, _value=None):
        if self._sent and self._changed():
            self._refresh_results()

    @rx.event
    def set_intent(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.intent = value if value in ("book_appointment", "raise_ticket", "other") else "book_appointment"

    @rx.event
    @authenticated
    def pick_customer(self, customer_id: str):
        with session_scope() as session:
            customer = session.get(Customer, int(customer_id)) if customer_id.isdigit() else None
            if customer is None:
                return
            self.values = {**self.values, "customer_name": customer.name, "customer_phone": customer.phone,
                           "customer_email": customer.email or ""}

    @rx.event
    def use_time(self, value: str):
        self.values = {**self.values, "appointment": value}

    @rx.event
    @authenticated
    async def send(self, form_data: dict):
        self.error = ""
        self.values = {**self.values, **{k: str(form_data.get(k, "") or "").strip() for k in PLAYGROUND_FIELDS
                                         if k in form_data}}
        secret = get_settings().elevenlabs_webhook_secret
        if not secret:
            self.error = "ELEVENLABS_WEBHOOK_SECRET is not set, so the webhook refuses every call (503)."
            return
        v = self.values
        doc = playground.compose_call(
            intent=self.intent if self.intent != "other" else "ask_question", customer_name=v.get("customer_name", ""),
            customer_phone=v.get("customer_phone", ""), customer_email=v.get("customer_email", ""),
            service=v.get("service", "") if self.intent == "book_appointment" else "",
            appointment=v.get("appointment", "") if self.intent == "book_appointment" else "",
            duration_minutes=v.get("duration_minutes", "") if self.intent == "book_appointment" else "",
            notes=v.get("notes", "") if self.intent == "book_appointment" else "",
            issue_summary=v.get("issue_summary", "") if self.intent == "raise_ticket" else "",
            issue_details=v.get("issue_details", "") if self.intent == "raise_ticket" else "",
            priority=v.get("priority", "") if self.intent == "raise_ticket" else "",
            category=v.get("category", "") if self.intent == "raise_ticket" else "")
        external_id = doc["data"]["conversation_id"]
        self.sending = True
        yield
        try:
            status, text = await playground.send_signed(self.webhook_url or own_webhook_url(), doc, secret)
        except Exception as exc:  # the app could not reach itself: say so instead of failing silently
            log.warning("playground.send_failed", error=type(exc).__name__)
            self.error = f"Could not reach the webhook at {self.webhook_url}: {type(exc).__name__}."
            self.sending = False
            return
        self.sending = False
        answer = f"{status} {text}".strip()
        if status != 200:
            self.error = f"The webhook refused the call: {answer}"
            return
        self._sent = [(external_id, answer), *self._sent][:5]
        self._refresh_results()
        yield rx.toast.info("Sent through the signed webhook. Watch the record appear below.")


class SupportAgentState(LiveMixin, AuthState):
    _live_topics: tuple[str, ...] = ("conversations", "tickets", "bookings")

    agent_configured: bool = False
    agent_id: str = ""
    private_agent: bool = False
    webhook_url: str = ""
    phase: str = "idle"
    external_id: str = ""
    result: list[CallResult] = []

    def _refresh(self) -> None:
        if not self.external_id:
            self.result = []
            return
        with session_scope() as session:
            self.result = [_result_for(session, self.external_id, "")]

    @rx.event
    @authenticated
    def load(self):
        settings = get_settings()
        self.agent_configured = bool(settings.elevenlabs_agent_id)
        self.agent_id = settings.elevenlabs_agent_id or ""
        self.private_agent = bool(settings.elevenlabs_api_key)
        self.webhook_url = settings.public_base_url.rstrip("/") + "/api/webhooks/elevenlabs"
        self._remember_versions()
        self._refresh()

    @rx.event
    def set_phase(self, phase: str):
        self.phase = phase[:20]

    @rx.event
    @authenticated
    def set_conversation(self, external_id: str):
        self.external_id = external_id[:128]
        self._refresh()

    @rx.event
    @authenticated(touch=False)  # polling: not user activity
    def tick(self, _value=None):
        if self.external_id and self._changed():
            self._refresh()


def conversation_link(conversation_id: int) -> str:
    from navaia_app.ui import routes

    return f"{routes.CONVERSATIONS}?id={conversation_id}"

