"""The Integrations page: outgoing webhook endpoints and their delivery log (admins), the signed-in user's
calendar feed URLs, and the retention policy with its last purge. Thin: every rule is in the services."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from navaia_app.auth.state import AuthState, actor, authenticated
from navaia_app.calendar_feeds import service as feeds
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.privacy import retention
from navaia_app.webhooks_out import service
from navaia_app.webhooks_out.models import EVENT_TYPES
from navaia_app.ui.actions import service_action

LOG_PAGE = 20

# The buttons on an endpoint's row: the service call and what the page says after it.
ENDPOINT_ACTIONS = {
    "send_test": (service.send_test_event, "Test event queued; it appears in the delivery log once sent."),
    "pause": (service.pause_endpoint, "Endpoint paused."),
    "resume": (service.resume_endpoint, "Endpoint resumed: waiting events go out in order."),
    "delete": (service.delete_endpoint, "Endpoint deleted."),
}


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _days(value: int | None) -> str:
    return "" if value is None else str(value)


@dataclass
class EndpointRow:
    id: int
    url: str
    description: str
    events: str
    status: str
    paused_reason: str
    pending: int
    delivered: int
    failed: int
    last_success: str


@dataclass
class AttemptRow:
    id: int
    delivery_id: int
    at: str
    number: int
    ok: bool
    status: str
    latency: str
    excerpt: str


@dataclass
class DeliveryRow:
    id: int
    message_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt: str
    last_error: str


@dataclass
class FeedRow:
    id: int
    scope: str
    created: str
    last_used: str


class IntegrationsState(AuthState):
    endpoints: list[EndpointRow] = []
    event_types: list[str] = list(EVENT_TYPES)
    chosen_events: list[str] = []
    endpoint_error: str = ""
    new_secret: str = ""  # shown once, right after registration
    log_endpoint_id: int = 0
    log_endpoint_url: str = ""
    attempts: list[AttemptRow] = []
    deliveries: list[DeliveryRow] = []
    log_total: int = 0

    feeds: list[FeedRow] = []
    services: list[str] = []
    new_feed_url: str = ""  # shown once

    recordings_days: str = ""
    transcripts_days: str = ""
    payloads_days: str = ""
    retention_error: str = ""
    last_purge: str = ""
    last_purge_report: str = ""

    # --- loading ------------------------------------------------------------------------------

    def _load_endpoints(self) -> None:
        user = actor()
        if user.role != "admin":
            self.endpoints = []
            return
        with session_scope() as session:
            counts = service.delivery_counts(session=session)
            self.endpoints = [EndpointRow(
                id=e.id, url=e.url, description=e.description, events=", ".join(e.events), status=e.status,
                paused_reason=e.paused_reason or "", pending=counts.get(e.id, {}).get("pending", 0),
                delivered=counts.get(e.id, {}).get("delivered", 0), failed=counts.get(e.id, {}).get("failed", 0),
                last_success=_when(e.last_success_at) or "never") for e in service.list_endpoints(session=session,
                                                                                                 actor=user)]
        if self.log_endpoint_id:
            self._load_log()

    def _load_log(self) -> None:
        with session_scope() as session:
            endpoint = service.get_endpoint(session=session, actor=actor(), endpoint_id=self.log_endpoint_id)
            self.log_endpoint_url = endpoint.url
            attempts, self.log_total = service.list_attempts(session=session, actor=actor(),
                                                             endpoint_id=endpoint.id, limit=LOG_PAGE)
            deliveries, _ = service.list_deliveries(session=session, actor=actor(), endpoint_id=endpoint.id,
                                                    limit=LOG_PAGE)
        self.attempts = [AttemptRow(id=a.id, delivery_id=a.delivery_id, at=_when(a.at), number=a.number, ok=a.ok,
                                    status=str(a.status_code) if a.status_code is not None else (a.error or ""),
                                    latency=f"{a.latency_ms} ms" if a.latency_ms is not None else "",
                                    excerpt=a.response_excerpt[:200]) for a in attempts]
        self.deliveries = [DeliveryRow(id=d.id, message_id=d.message_id, event_type=d.event_type, status=d.status,
                                       attempts=d.attempts, next_attempt=_when(d.next_attempt_at),
                                       last_error=d.last_error or "") for d in deliveries]

    def _load_feeds(self) -> None:
        with session_scope() as session:
            self.feeds = [FeedRow(id=f.id, scope=f.service or "Every booking", created=_when(f.created_at),
                                  last_used=_when(f.last_used_at) or "not yet")
                          for f in feeds.list_feeds(session=session, user=actor())]
            self.services = feeds.services_in_use(session=session)

    def _load_retention(self) -> None:
        with session_scope() as session:
            policy = retention.get_policy(session=session)
        self.recordings_days, self.transcripts_days = _days(policy.recordings_days), _days(policy.transcripts_days)
        self.payloads_days = _days(policy.payloads_days)
        self.last_purge = _when(policy.last_run_at) or "not yet"
        report = policy.last_run_report or {}
        self.last_purge_report = (
            f"{report.get('recordings', 0)} recordings ({report.get('recording_bytes', 0):,} bytes), "
            f"{report.get('transcripts', 0)} transcripts, {report.get('inbound_payloads', 0)} post-call webhooks, "
            f"{report.get('outgoing_events', 0)} outgoing events removed") if report else ""

    @rx.event
    @authenticated
    def load(self):
        self.new_secret, self.new_feed_url, self.endpoint_error, self.retention_error = "", "", "", ""
        self._load_endpoints()
        self._load_feeds()
        self._load_retention()

    # --- webhook endpoints ----------------------------------------------------------------------

    @rx.event
    def toggle_event(self, event_type: str, checked: bool):
        chosen = [e for e in self.chosen_events if e != event_type]
        self.chosen_events = chosen + [event_type] if checked else chosen

    @rx.event
    @authenticated(admin=True)
    def add_endpoint(self, form_data: dict):
        try:
            with session_scope() as session:
                endpoint = service.create_endpoint(session=session, actor=actor(), url=form_data.get("url", ""),
                                                   events=list(self.chosen_events),
                                                   description=form_data.get("description", ""))
                secret = endpoint.secret
        except DomainError as exc:
            self.endpoint_error = exc.message
            return None
        self.endpoint_error, self.new_secret, self.chosen_events = "", secret, []
        self._load_endpoints()
        return rx.toast.success("Endpoint added. Copy its signing secret now: it is shown once.")

    @rx.event
    @authenticated(admin=True)
    def endpoint_action(self, action: str, endpoint_id: int):
        """Send a test event to, pause, resume or delete an endpoint (ENDPOINT_ACTIONS names them)."""
        if action not in ENDPOINT_ACTIONS:
            return None
        change, done = ENDPOINT_ACTIONS[action]
        if action == "delete" and self.log_endpoint_id == endpoint_id:
            self.log_endpoint_id = 0
        return service_action(lambda s: change(session=s, actor=actor(), endpoint_id=endpoint_id),
                              then=self._load_endpoints, done=done)

    @rx.event
    @authenticated(admin=True)
    def show_log(self, endpoint_id: int):
        self.log_endpoint_id = endpoint_id
        try:
            self._load_log()
        except DomainError as exc:
            self.log_endpoint_id = 0
            return rx.toast.error(exc.message)
        return None

    @rx.event
    @authenticated(admin=True)
    def refresh_log(self):
        if self.log_endpoint_id:
            self._load_endpoints()

    @rx.event
    @authenticated(admin=True)
    def resend(self, delivery_id: int):
        endpoint_id = self.log_endpoint_id
        return self._endpoint_action(lambda s: service.resend_delivery(session=s, actor=actor(),
                                                                       endpoint_id=endpoint_id,
                                                                       delivery_id=delivery_id),
                                     "Queued again, same webhook-id.")

    @rx.event
    def dismiss_secret(self):
        self.new_secret = ""

    # --- calendar feeds -------------------------------------------------------------------------

    @rx.event
    @authenticated
    def create_feed(self, form_data: dict):
        scope = form_data.get("service") or ""
        try:
            with session_scope() as session:
                created = feeds.create_feed(session=session, user=actor(),
                                            service=None if scope in ("", "__all__") else scope)
                url = created.url
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.new_feed_url = url
        self._load_feeds()
        return rx.toast.success("New calendar URL: copy it now, it is shown once.")

    @rx.event
    @authenticated
    def revoke_feed(self, feed_id: int):
        return service_action(lambda s: feeds.revoke_feed(session=s, user=actor(), feed_id=feed_id),
                              then=self._load_feeds, done="Calendar URL revoked: it no longer works.")

    # --- retention --------------------------------------------------------------------------------

    @rx.event
    @authenticated(admin=True)
    def save_retention(self, form_data: dict):
        changes = {}
        for field in retention.KINDS:
            text = str(form_data.get(field, "")).strip()
            if not text:
                changes[field] = None  # empty: forever
            elif text.isdigit():
                changes[field] = int(text)
            else:
                self.retention_error = f"{retention.LABELS[field]}: a whole number of days, or empty for forever."
                return None
        try:
            with session_scope() as session:
                retention.update_policy(session=session, actor=actor(), changes=changes)
        except DomainError as exc:
            self.retention_error = exc.message
            return None
        self.retention_error = ""
        self._load_retention()
        return rx.toast.success("Retention saved; the daily purge applies it.")
