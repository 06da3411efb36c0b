"""Retention: how long recordings, transcripts and webhook payloads are kept, and the daily purge.

- recordings (call audio files): 90 days by default; the file is deleted and the call forgets it;
- transcripts (and the values the agent collected): 1 year; the call, its intent, outcome, summary and
  what it created stay (the figures);
- webhook payloads: 1 year; stored post-call webhooks (their rows and any recording they still hold) and
  outgoing webhook events that are no longer being delivered (their deliveries and log go with them).
None means forever. The purge works in batches (short transactions) and records what it removed.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.audit import service as audit
from navaia_app.auth.permissions import require
from navaia_app.conversations import webhook as inbound
from navaia_app.conversations.models import Conversation, WebhookEvent
from navaia_app.core.db import session_scope
from navaia_app.core.errors import ValidationFailed
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.privacy.models import RetentionPolicy
from navaia_app.webhooks_out.models import OutgoingEvent, WebhookDelivery, WebhookDeliveryAttempt

log = get_logger(__name__)

KINDS = ("recordings_days", "transcripts_days", "payloads_days")
LABELS = {"recordings_days": "Recordings", "transcripts_days": "Transcripts", "payloads_days": "Webhook payloads"}
MAX_DAYS = 36500
BATCH = 500


def get_policy(*, session: Session) -> RetentionPolicy:
    """The policy (the defaults until an admin changes them)."""
    return session.get(RetentionPolicy, 1) or RetentionPolicy(id=1)


def update_policy(*, session: Session, actor, changes: dict[str, Any], now: datetime | None = None) -> RetentionPolicy:
    """Change some of the periods (days, at least 1; None = forever)."""
    require(actor, "change_settings")
    unknown = set(changes) - set(KINDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"Cannot change {field!r}.", field=field)
    for field, value in changes.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_DAYS):
            raise ValidationFailed(f"{LABELS[field]}: a whole number of days from 1 to {MAX_DAYS:,}, or forever.",
                                   field=field)
    policy = session.get(RetentionPolicy, 1, with_for_update=True)
    if policy is None:
        policy = RetentionPolicy(id=1)
    before = {k: getattr(policy, k) for k in KINDS}
    for field, value in changes.items():
        setattr(policy, field, value)
    policy.updated_at, policy.updated_by_id = now or utcnow(), getattr(actor, "id", None)
    session.add(policy)
    audit.record(session, action="retention.changed", actor=actor, target_type="retention", target_id=1,
                 detail={k: f"{before[k]} -> {getattr(policy, k)}" for k in KINDS if before[k] != getattr(policy, k)})
    return policy


def _cutoff(days: int | None, now: datetime) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def _delete_file(relative: str | None) -> int:
    path = inbound.audio_path(relative) if relative else None
    if path is None:
        return 0
    size = path.stat().st_size
    path.unlink(missing_ok=True)
    return size


def purge(*, now: datetime | None = None, batch: int = BATCH) -> dict[str, Any]:
    """Delete what is past its retention period; store and return what was removed."""
    now = now or utcnow()
    started = time.monotonic()
    with session_scope() as session:
        policy = get_policy(session=session)
        recordings, transcripts, payloads = (_cutoff(policy.recordings_days, now),
                                             _cutoff(policy.transcripts_days, now), _cutoff(policy.payloads_days, now))
    report: dict[str, Any] = {"recordings": 0, "recording_bytes": 0, "transcripts": 0, "inbound_payloads": 0,
                              "outgoing_events": 0}

    if recordings is not None:
        while True:  # calls older than the period that still have their recording
            with session_scope() as session:
                rows = list(session.exec(select(Conversation).where(
                    Conversation.audio_path.is_not(None), Conversation.created_at < recordings).limit(batch)))
                events = list(session.exec(select(WebhookEvent).where(
                    WebhookEvent.media_path.is_not(None), WebhookEvent.received_at < recordings).limit(batch)))
                paths = {r.audio_path for r in rows} | {e.media_path for e in events}
                for row in rows:
                    row.audio_path = None
                    session.add(row)
                for event in events:
                    event.media_path = None
                    session.add(event)
            for path in paths:  # after the commit: a crash in between leaves a file, never a dangling row
                size = _delete_file(path)
                report["recordings"] += 1 if size else 0
                report["recording_bytes"] += size
            if len(rows) < batch and len(events) < batch:
                break

    if transcripts is not None:
        while True:
            with session_scope() as session:
                ids = list(session.exec(select(Conversation.id).where(
                    Conversation.created_at < transcripts,
                    sa.or_(sa.cast(Conversation.transcript, sa.Text) != "[]",
                           sa.cast(Conversation.data_collection, sa.Text) != "{}")).limit(batch)))
                if ids:
                    session.execute(sa.update(Conversation).where(Conversation.id.in_(ids))
                                    .values(transcript=[], data_collection={}))
            report["transcripts"] += len(ids)
            if len(ids) < batch:
                break

    if payloads is not None:
        while True:
            with session_scope() as session:
                events = list(session.exec(select(WebhookEvent).where(
                    WebhookEvent.received_at < payloads, WebhookEvent.status != "pending").limit(batch)))
                paths = [e.media_path for e in events if e.media_path]
                if events:
                    session.execute(sa.delete(WebhookEvent).where(WebhookEvent.id.in_([e.id for e in events])))
            for path in paths:
                size = _delete_file(path)
                report["recordings"] += 1 if size else 0
                report["recording_bytes"] += size
            report["inbound_payloads"] += len(events)
            if len(events) < batch:
                break
        while True:
            with session_scope() as session:
                still_sending = select(WebhookDelivery.event_id).where(WebhookDelivery.status == "pending")
                ids = list(session.exec(select(OutgoingEvent.id).where(
                    OutgoingEvent.created_at < payloads, OutgoingEvent.id.not_in(still_sending)).limit(batch)))
                if ids:
                    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
                    session.execute(sa.delete(WebhookDeliveryAttempt)
                                    .where(WebhookDeliveryAttempt.delivery_id.in_(deliveries)))
                    session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
                    session.execute(sa.delete(OutgoingEvent).where(OutgoingEvent.id.in_(ids)))
            report["outgoing_events"] += len(ids)
            if len(ids) < batch:
                break

    report["seconds"] = round(time.monotonic() - started, 3)
    report["at"] = now.isoformat()
    with session_scope() as session:
        policy = session.get(RetentionPolicy, 1, with_for_update=True)
        if policy is None:
            policy = RetentionPolicy(id=1)
        policy.last_run_at, policy.last_run_report = now, report
        session.add(policy)
        audit.record(session, action="retention.purged", detail={k: v for k, v in report.items() if k != "at"})
    log.info("retention.purged", **{k: v for k, v in report.items() if k != "at"})
    return report
