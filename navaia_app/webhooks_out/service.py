"""Outgoing webhooks: endpoints that admins register, and the delivery of the outbox to them.

- Each event is signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
  `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), with the `standardwebhooks` package.
- Deliveries of one endpoint go out one at a time, oldest event first (one sender per endpoint: a lease in
  the database): a receiver sees the events in the order they were committed.
- A failed delivery is retried after 10 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (about 27 hours
  in all; the first three attempts fall within 80 s), with the same `webhook-id`; after the last one it is
  marked failed (re-sendable by hand) and the endpoint is paused with the reason, so the events behind it
  wait instead of being lost. Resuming sends them.
- Each request goes to the address that was checked against SSRF (see ssrf.py), never to a fresh lookup.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, func, select
from standardwebhooks import Webhook

from navaia_app.audit import service as audit
from navaia_app.auth.permissions import require
from navaia_app.core import leases
from navaia_app.core.db import session_scope
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.webhooks_out import outbox, ssrf
from navaia_app.webhooks_out.models import (
    EVENT_TYPES,
    TEST_EVENT,
    DeliveryOut,
    OutgoingEvent,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)

log = get_logger(__name__)

RETRY_DELAYS = (10, 60, 300, 1800, 7200, 18000, 36000, 36000)  # seconds after attempts 1..8
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
LEASE_SECONDS = 60  # longer than one request can take (TIMEOUT): a live sender never loses it
SLICE_SECONDS = 20.0  # a sender hands over to a fresh job after this, so other jobs get their turn
MAX_ENDPOINTS = 50
EXCERPT = 500
USER_AGENT = "Navaia-Webhooks/1.0"


# --- endpoints -----------------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form ("whsec_" + 32 random bytes, base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, (list, tuple)) or not events:
        raise ValidationFailed(f"Choose at least one event ({', '.join(EVENT_TYPES)}).", field="events")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(f"Unknown event {str(unknown[0])[:60]!r}; choose from: {', '.join(EVENT_TYPES)}.",
                               field="events")
    return [e for e in EVENT_TYPES if e in set(events)]


def _clean_description(description: Any) -> str:
    text = (description or "").strip() if isinstance(description, str) or description is None else ""
    if len(text) > 300:
        raise ValidationFailed("Description is too long (300 characters at most).", field="description")
    return text


def _clean_url(url: Any) -> str:
    text = (url or "").strip() if isinstance(url, str) else ""
    if not text:
        raise ValidationFailed("URL is required.", field="url")
    if len(text) > 2000:
        raise ValidationFailed("URL is too long (2,000 characters at most).", field="url")
    ssrf.resolve(text)  # refuses internal addresses now; checked again at every delivery
    return text


def create_endpoint(*, session: Session, actor, url: str, events: list[str], description: str = "",
                    now: datetime | None = None) -> WebhookEndpoint:
    """Register a receiver. The returned endpoint carries its secret: show it once, it is never listed."""
    require(actor, "manage_webhook_endpoints")
    events = _clean_events(events)
    description = _clean_description(description)
    url = _clean_url(url)
    count = session.exec(select(func.count()).select_from(WebhookEndpoint)).one()
    if count >= MAX_ENDPOINTS:
        raise Conflict(f"At most {MAX_ENDPOINTS} endpoints; delete one first.")
    now = now or utcnow()
    endpoint = WebhookEndpoint(url=url, events=events, description=description, secret=new_secret(),
                               created_by_id=getattr(actor, "id", None), created_at=now, updated_at=now)
    session.add(endpoint)
    session.flush()
    audit.record(session, action="webhook_endpoint.created", actor=actor, target_type="webhook_endpoint",
                 target_id=endpoint.id, detail={"url": url, "events": ",".join(events)})
    log.info("webhook_out.endpoint_created", endpoint_id=endpoint.id, events=events)
    return endpoint


def list_endpoints(*, session: Session, actor) -> list[WebhookEndpoint]:
    """Every outgoing webhook endpoint. Raises PermissionDenied unless the actor may manage webhook endpoints."""
    require(actor, "manage_webhook_endpoints")
    return list(session.exec(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(*, session: Session, actor, endpoint_id: int) -> WebhookEndpoint:
    """One outgoing webhook endpoint. Raises PermissionDenied unless the actor may manage webhook endpoints,
    NotFound.
    """
    require(actor, "manage_webhook_endpoints")
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
    return endpoint


def update_endpoint(*, session: Session, actor, endpoint_id: int, url: str | None = None,
                    events: list[str] | None = None, description: str | None = None) -> WebhookEndpoint:
    """Change an endpoint's URL, events or description (only those given), checked as on creation; audited.
    Raises PermissionDenied, NotFound, ValidationFailed.
    """
    endpoint = get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = _clean_description(description)
    if url is not None:
        endpoint.url = _clean_url(url)
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    audit.record(session, action="webhook_endpoint.updated", actor=actor, target_type="webhook_endpoint",
                 target_id=endpoint.id, detail={"url": endpoint.url, "events": ",".join(endpoint.events)})
    return endpoint


def delete_endpoint(*, session: Session, actor, endpoint_id: int) -> None:
    """Delete an endpoint with its deliveries and their attempts; audited. Raises PermissionDenied, NotFound."""
    endpoint = get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    session.exec(sa.delete(WebhookDeliveryAttempt).where(WebhookDeliveryAttempt.endpoint_id == endpoint_id))
    session.exec(sa.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
    session.delete(endpoint)
    session.flush()
    audit.record(session, action="webhook_endpoint.deleted", actor=actor, target_type="webhook_endpoint",
                 target_id=endpoint_id, detail={"url": endpoint.url})
    log.info("webhook_out.endpoint_deleted", endpoint_id=endpoint_id)


def pause_endpoint(*, session: Session, actor, endpoint_id: int, reason: str = "Paused by an administrator.",
                   now: datetime | None = None) -> WebhookEndpoint:
    """Stop delivering to an endpoint (its events keep queueing until it is resumed); audited. Raises
    PermissionDenied, NotFound.
    """
    endpoint = get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    _pause(endpoint, reason, now or utcnow())
    session.add(endpoint)
    audit.record(session, action="webhook_endpoint.paused", actor=actor, target_type="webhook_endpoint",
                 target_id=endpoint_id)
    return endpoint


def resume_endpoint(*, session: Session, actor, endpoint_id: int) -> WebhookEndpoint:
    """Send again: what waited behind the pause goes out in order, starting now."""
    endpoint = get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    now = utcnow()
    endpoint.status, endpoint.paused_reason, endpoint.paused_at, endpoint.updated_at = "active", None, None, now
    session.add(endpoint)
    session.exec(sa.update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id,
                                                  WebhookDelivery.status == "pending")
                 .values(next_attempt_at=now))
    audit.record(session, action="webhook_endpoint.resumed", actor=actor, target_type="webhook_endpoint",
                 target_id=endpoint_id)
    outbox.kick_after_commit(session, [endpoint_id])
    return endpoint


def send_test_event(*, session: Session, actor, endpoint_id: int) -> OutgoingEvent:
    """Queue an `endpoint.test` event for this endpoint only (it goes out behind what is already queued)."""
    endpoint = get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    event = outbox.emit(session, TEST_EVENT, {"id": endpoint.id, "endpoint_id": endpoint.id,
                                              "message": "A test event from Navaia."},
                        endpoint_ids=[endpoint.id])
    audit.record(session, action="webhook_endpoint.tested", actor=actor, target_type="webhook_endpoint",
                 target_id=endpoint_id)
    return event


def resend_delivery(*, session: Session, actor, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    """A failed (or delivered) event goes out again, same `webhook-id`, with a fresh set of retries."""
    get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(f"Delivery {delivery_id} not found for endpoint {endpoint_id}.")
    if delivery.status == "pending":
        raise Conflict("This delivery is still being tried.")
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    session.add(delivery)
    audit.record(session, action="webhook_delivery.resent", actor=actor, target_type="webhook_endpoint",
                 target_id=endpoint_id, detail={"delivery_id": delivery_id})
    outbox.kick_after_commit(session, [endpoint_id])
    return delivery


def list_deliveries(*, session: Session, actor, endpoint_id: int, status: str | None = None, limit: int = 25,
                    offset: int = 0) -> tuple[list[DeliveryOut], int]:
    """One page of an endpoint's deliveries, newest event first, optionally of one status, and the total. Raises
    PermissionDenied, NotFound.
    """
    get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    conditions = [WebhookDelivery.endpoint_id == endpoint_id]
    if status:
        conditions.append(WebhookDelivery.status == status)
    rows = session.exec(_delivery_rows().where(*conditions).order_by(WebhookDelivery.event_id.desc())
                        .limit(max(1, min(limit, 200))).offset(max(0, offset)))
    items = [_delivery_out(*row) for row in rows]
    total = session.exec(select(func.count()).select_from(WebhookDelivery).where(*conditions)).one()
    return items, total


def _delivery_rows():
    return (select(WebhookDelivery, OutgoingEvent.message_id, OutgoingEvent.event_type)
            .join(OutgoingEvent, OutgoingEvent.id == WebhookDelivery.event_id))


def _delivery_out(d: WebhookDelivery, message_id: str, event_type: str) -> DeliveryOut:
    return DeliveryOut(id=d.id, event_id=d.event_id, message_id=message_id, event_type=event_type, status=d.status,
                       attempts=d.attempts, next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                       delivered_at=d.delivered_at, last_status_code=d.last_status_code, last_error=d.last_error,
                       created_at=d.created_at)


def delivery_out(*, session: Session, delivery_id: int) -> DeliveryOut:
    """One delivery as the REST API shows it. Raises NotFound."""
    row = session.exec(_delivery_rows().where(WebhookDelivery.id == delivery_id)).first()
    if row is None:
        raise NotFound(f"Delivery {delivery_id} not found.")
    return _delivery_out(*row)


def list_attempts(*, session: Session, actor, endpoint_id: int, limit: int = 25,
                  offset: int = 0) -> tuple[list[WebhookDeliveryAttempt], int]:
    """The delivery log of an endpoint, newest first: status, latency and what the receiver answered."""
    get_endpoint(session=session, actor=actor, endpoint_id=endpoint_id)
    condition = WebhookDeliveryAttempt.endpoint_id == endpoint_id
    items = list(session.exec(select(WebhookDeliveryAttempt).where(condition)
                              .order_by(WebhookDeliveryAttempt.id.desc())
                              .limit(max(1, min(limit, 200))).offset(max(0, offset))))
    total = session.exec(select(func.count()).select_from(WebhookDeliveryAttempt).where(condition)).one()
    return items, total


def delivery_counts(*, session: Session) -> dict[int, dict[str, int]]:
    """Deliveries by endpoint and status (the endpoints table shows them)."""
    counts: dict[int, dict[str, int]] = {}
    for endpoint_id, status, n in session.exec(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)):
        counts.setdefault(endpoint_id, {})[status] = n
    return counts


# --- delivery ------------------------------------------------------------------------------------


def sign(secret: str, message_id: str, at: datetime, body: str) -> str:
    """The Standard Webhooks signature header value of `body` for this message id and time."""
    return Webhook(secret).sign(message_id, at, body)


@dataclass
class SendResult:
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str


def _pinned_request(target: ssrf.Target, url: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with the checked address in place of the name, the Host header and the TLS name."""
    parts = httpx.URL(url)
    host = f"[{target.address}]" if ":" in target.address else target.address
    pinned = parts.copy_with(host=host.strip("[]"), port=target.port)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return str(pinned), {"host": host_header}, extensions


def send(*, url: str, secret: str, message_id: str, body: str, client: httpx.Client,
         now: datetime | None = None) -> SendResult:
    """POST one signed event. Never raises: a refusal, a timeout or a non-2xx answer is a failed result."""
    started = time.perf_counter()
    at = now or utcnow()
    try:
        target = ssrf.resolve(url)  # again at delivery: the name may point elsewhere by now
        pinned, headers, extensions = _pinned_request(target, url)
        headers.update({
            "content-type": "application/json", "user-agent": USER_AGENT,
            "webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": sign(secret, message_id, at, body),
        })
        response = client.post(pinned, content=body.encode(), headers=headers, extensions=extensions)
        latency = int((time.perf_counter() - started) * 1000)
        excerpt = response.text[:EXCERPT] if response.content else ""
        ok = 200 <= response.status_code < 300
        return SendResult(ok=ok, status_code=response.status_code, latency_ms=latency,
                          error=None if ok else f"HTTP {response.status_code}", excerpt=excerpt)
    except ssrf.AddressRefused as exc:
        error = f"refused: {exc.message}"
    except httpx.TimeoutException:
        error = f"timed out after {TIMEOUT.read:.0f} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return SendResult(ok=False, status_code=None, latency_ms=int((time.perf_counter() - started) * 1000),
                      error=error[:300], excerpt="")


def _pause(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    endpoint.status, endpoint.paused_reason, endpoint.paused_at, endpoint.updated_at = "paused", reason[:500], now, now


def next_retry(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries, or None when that was the last."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=RETRY_DELAYS[attempts - 1])


LEASE_KIND = "webhooks"


def take_lease(endpoint_id: int, owner: str, now: datetime | None = None) -> bool:
    """The endpoint's sender lease: free, run out, ours, or held by a process that died on this machine."""
    now = now or utcnow()
    with session_scope() as session:
        holder = session.exec(select(WebhookEndpoint.lease_owner).where(WebhookEndpoint.id == endpoint_id)).first()
        free = sa.or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until < now,
                      WebhookEndpoint.lease_owner == owner)
        if holder and leases.owner_dead(holder, LEASE_KIND):
            free = sa.or_(free, WebhookEndpoint.lease_owner == holder)
        taken = session.exec(
            sa.update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, free)
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=LEASE_SECONDS))).rowcount
    return taken == 1


def release_lease(endpoint_id: int, owner: str) -> None:
    """Give up the delivery lease on an endpoint, if `owner` still holds it (a no-op otherwise)."""
    with session_scope() as session:
        session.exec(sa.update(WebhookEndpoint)
                     .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.lease_owner == owner)
                     .values(lease_owner=None, lease_until=None))


def _head(session: Session, endpoint_id: int) -> WebhookDelivery | None:
    return session.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id,
                                                      WebhookDelivery.status == "pending")
                        .order_by(WebhookDelivery.event_id).limit(1)).first()


def record_result(*, session: Session, delivery_id: int, result: SendResult, now: datetime) -> str:
    """Write one attempt into the log and move the delivery on: delivered, retry later, or failed (and
    the endpoint paused). Returns the delivery's status."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if delivery is None or delivery.status != "pending":
        return delivery.status if delivery is not None else "gone"
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = now, result.status_code, result.error
    session.add(WebhookDeliveryAttempt(delivery_id=delivery.id, endpoint_id=delivery.endpoint_id,
                                       number=delivery.attempts, at=now, ok=result.ok, status_code=result.status_code,
                                       latency_ms=result.latency_ms, error=result.error,
                                       response_excerpt=result.excerpt))
    if result.ok:
        delivery.status, delivery.delivered_at = "delivered", now
        endpoint.last_success_at = now
    else:
        endpoint.last_failure_at = now
        retry_at = next_retry(delivery.attempts, now)
        if retry_at is None:
            delivery.status = "failed"
            span = now - delivery.created_at
            _pause(endpoint, f"Paused {now:%Y-%m-%d %H:%M} UTC: an event failed {delivery.attempts} times over "
                             f"{span.total_seconds() / 3600:.0f} h (last: {result.error}). Fix the receiver, then "
                             "resume; the failed event can be re-sent from the log.", now)
            log.warning("webhook_out.endpoint_paused", endpoint_id=endpoint.id, delivery_id=delivery.id)
        else:
            delivery.next_attempt_at = retry_at
    session.add(delivery)
    session.add(endpoint)
    return delivery.status


@dataclass
class RunReport:
    delivered: int = 0
    failed_attempts: int = 0
    busy: bool = False
    wake_at: datetime | None = None
    handed_over: bool = False


def run_endpoint(endpoint_id: int, *, owner: str | None = None, client: httpx.Client | None = None,
                 slice_seconds: float = SLICE_SECONDS) -> RunReport:
    """Send what is due for one endpoint, in order, until nothing is due or the slice is over.

    Safe to run any number of times at once: only the holder of the endpoint's lease sends; a sender killed
    mid-request loses the lease after LEASE_SECONDS and the event goes out again with the same id."""
    owner = owner or leases.process_owner(LEASE_KIND, secrets.token_hex(4))
    report = RunReport()
    own_client = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False)
    started = time.monotonic()
    try:
        for _round in range(2):  # the second round closes the gap between "nothing due" and the release
            if not take_lease(endpoint_id, owner):
                report.busy = True
                return report
            try:
                _send_due(endpoint_id, owner, client, report, started, slice_seconds)
            finally:
                release_lease(endpoint_id, owner)
            if report.handed_over or report.wake_at is not None or not _due_now(endpoint_id):
                break
    finally:
        if own_client:
            client.close()
    if report.handed_over:
        outbox.kick([endpoint_id])
    elif report.wake_at is not None:
        schedule_wake(endpoint_id, report.wake_at)
    return report


def _due_now(endpoint_id: int) -> bool:
    with session_scope() as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        head = _head(session, endpoint_id) if endpoint is not None and endpoint.status == "active" else None
        return head is not None and head.next_attempt_at <= utcnow()


def _send_due(endpoint_id: int, owner: str, client: httpx.Client, report: RunReport, started: float,
              slice_seconds: float) -> None:
    while True:
        if time.monotonic() - started > slice_seconds:
            report.handed_over = True
            return
        now = utcnow()
        with session_scope() as session:
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None or endpoint.status != "active":
                return
            head = _head(session, endpoint_id)
            if head is None:
                return
            if head.next_attempt_at > now:
                report.wake_at = head.next_attempt_at
                return
            event = session.get(OutgoingEvent, head.event_id)
            url, secret, delivery_id = endpoint.url, endpoint.secret, head.id
            message_id, body = event.message_id, event.payload
            # still ours for LEASE_SECONDS from now: more than one request can take
            session.exec(sa.update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                                          WebhookEndpoint.lease_owner == owner)
                         .values(lease_until=now + timedelta(seconds=LEASE_SECONDS)))
        result = send(url=url, secret=secret, message_id=message_id, body=body, client=client)
        with session_scope() as session:
            status = record_result(session=session, delivery_id=delivery_id, result=result, now=utcnow())
        if result.ok:
            report.delivered += 1
        else:
            report.failed_attempts += 1
            log.info("webhook_out.attempt_failed", endpoint_id=endpoint_id, message_id=message_id,
                     error=result.error, status=status)


def schedule_wake(endpoint_id: int, at: datetime) -> None:
    """Run the endpoint's sender again at `at` (a retry). Booked once per endpoint and second."""
    try:
        from rq import Queue
        from rq.exceptions import DuplicateJobError

        from navaia_app.core.redis import get_redis

        try:
            Queue("default", connection=get_redis()).enqueue_at(
                at, "navaia_app.jobs.tasks.deliver_webhooks", endpoint_id,
                job_id=f"navaia-webhooks-wake-{endpoint_id}-{int(at.timestamp())}", unique=True,
                job_timeout=300, result_ttl=0, failure_ttl=24 * 3600)
        except DuplicateJobError:
            pass
    except Exception as exc:  # the sweeper sends it anyway
        log.warning("webhook_out.wake_not_booked", endpoint_id=endpoint_id, error=type(exc).__name__)


def endpoints_due(*, session: Session, now: datetime) -> list[int]:
    """Active endpoints with a delivery due (what the sweeper wakes; a live sender makes the job a no-op)."""
    due = (select(WebhookDelivery.endpoint_id).where(WebhookDelivery.status == "pending",
                                                     WebhookDelivery.next_attempt_at <= now).distinct())
    return list(session.exec(select(WebhookEndpoint.id).where(WebhookEndpoint.status == "active",
                                                              WebhookEndpoint.id.in_(due))))
