"""The outbox: feature services call `emit` inside their own unit of work, so an event exists if and only
if the change it reports was committed. After the commit the endpoint's sender is woken (a kick); if that
kick is lost (Redis down, worker killed) the sweeper finds the pending delivery in the database.

Imports only core/ and this package's models: every feature may call it without a cycle.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession, object_session
from sqlmodel import Session, select

from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.webhooks_out.models import EVENT_TYPES, TEST_EVENT, OutgoingEvent, WebhookDelivery, WebhookEndpoint

log = get_logger(__name__)

KICK_KEY = "navaia:webhooks:kick:{endpoint_id}"
KICK_TTL_SECONDS = 30  # a kick whose job never ran (Redis lost it) stops blocking new kicks after this


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)  # 24 URL-safe characters; unique, unguessable, stable


def body_of(event_type: str, data: dict[str, Any], at: datetime) -> str:
    """The JSON body the receivers get: `{"type", "timestamp", "data"}` (Standard Webhooks' shape)."""
    return json.dumps({"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data},
                      separators=(",", ":"), default=str, ensure_ascii=False)


def emit(session: Session, event_type: str, data: dict[str, Any], *, now: datetime | None = None,
         endpoint_ids: list[int] | None = None) -> OutgoingEvent | None:
    """Record `event_type` with `data` (whose `id` is the record's id) for every endpoint subscribed to it,
    in the caller's transaction. Nothing is written when nobody subscribed. `endpoint_ids` limits it to
    those endpoints (the test event)."""
    if event_type not in EVENT_TYPES and event_type != TEST_EVENT:
        raise ValueError(f"unknown event type {event_type!r}")
    if endpoint_ids is not None:
        targets = list(session.exec(select(WebhookEndpoint.id).where(WebhookEndpoint.id.in_(endpoint_ids))))
    else:
        targets = [eid for eid, events in _subscriptions(session) if event_type in events]
    if not targets:
        return None
    now = now or utcnow()
    event = OutgoingEvent(message_id=new_message_id(), event_type=event_type, payload=body_of(event_type, data, now),
                          created_at=now)
    session.add(event)
    session.flush()
    session.add_all([WebhookDelivery(endpoint_id=eid, event_id=event.id, next_attempt_at=now, created_at=now)
                     for eid in targets])
    kick_after_commit(session, targets)
    log.info("webhook_out.emitted", event_type=event_type, message_id=event.message_id, endpoints=len(targets))
    return event


_SUBSCRIPTIONS = "navaia_webhook_subscriptions"


def _subscriptions(session: Session) -> list[tuple[int, list[str]]]:
    """Every endpoint and the events it takes, read once per transaction (a batch of webhook events emits
    many), again after any change to an endpoint in this session."""
    transaction = session.get_transaction()
    cached = session.info.get(_SUBSCRIPTIONS)
    changed = any(isinstance(row, WebhookEndpoint) for rows in (session.new, session.dirty, session.deleted)
                  for row in rows)
    if cached is None or cached[0] is not transaction or changed:
        rows = session.exec(select(WebhookEndpoint.id, WebhookEndpoint.events)).all()
        cached = session.info[_SUBSCRIPTIONS] = (transaction, [(eid, list(events or [])) for eid, events in rows])
    return cached[1]


@sa_event.listens_for(WebhookEndpoint, "after_insert")
@sa_event.listens_for(WebhookEndpoint, "after_update")
@sa_event.listens_for(WebhookEndpoint, "after_delete")
def _endpoints_changed(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is not None:
        session.info.pop(_SUBSCRIPTIONS, None)


def emit_record(session: Session, event_type: str, schema, record, **extra: Any) -> OutgoingEvent | None:
    """emit() with `data` = the record as the REST API shows it (`schema`, a pydantic model), plus `extra`."""
    return emit(session, event_type, {**schema.model_validate(record).model_dump(mode="json"), **extra})


_KICKS = "navaia_webhook_kicks"


def kick_after_commit(session: Session, endpoint_ids: list[int]) -> None:
    """Wake the senders of these endpoints once this unit of work commits (never before: they would not
    see the rows). Collected per transaction, one kick per endpoint; a savepoint rolled back keeps what the
    outer transaction collected, a rolled-back transaction forgets it."""
    session.info.setdefault(_KICKS, set()).update(endpoint_ids)


@sa_event.listens_for(OrmSession, "after_commit")  # one listener for every session: cheaper than one each
def _kick_pending(session: Session) -> None:
    if _KICKS not in session.info or session.in_nested_transaction():
        return
    ids = sorted(session.info.pop(_KICKS, ()))
    if ids:
        kick(ids)


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested and _KICKS in session.info:
        session.info.pop(_KICKS, None)


def kick(endpoint_ids: list[int], *, connection=None) -> int:
    """Queue a sender job per endpoint unless one is queued and not started yet (it will see our rows:
    it starts after our commit). Never raises: the sweeper is the backstop. Returns jobs queued."""
    if not endpoint_ids:
        return 0
    try:
        from navaia_app.core.redis import get_redis
        from rq import Queue

        redis = connection or get_redis()
        queue = Queue("default", connection=redis)
        queued = 0
        for endpoint_id in endpoint_ids:
            # The job deletes this key when it starts, so a kick after that start queues a new job.
            if redis.set(KICK_KEY.format(endpoint_id=endpoint_id), "1", nx=True, ex=KICK_TTL_SECONDS):
                queue.enqueue("navaia_app.jobs.tasks.deliver_webhooks", endpoint_id, job_timeout=300,
                              result_ttl=0, failure_ttl=24 * 3600, description=f"webhooks for endpoint {endpoint_id}")
                queued += 1
        return queued
    except Exception as exc:
        log.warning("webhook_out.kick_failed", error=f"{type(exc).__name__}: {exc}"[:200])
        return 0
