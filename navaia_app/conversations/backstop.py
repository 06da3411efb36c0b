"""The backstop for post-call webhooks that never came.

ElevenLabs sends each post-call webhook once (retries only when switched on, and it disables a
webhook that keeps failing). Every ELEVENLABS_SYNC_SECONDS one worker (a periodic job booked under a
unique id) lists the agent's conversations of the last 24 hours from the ElevenLabs API, finds the
finished ones without a `post_call_transcription` in the inbox, fetches each and stores it through
the same inbox insert as the webhook route (webhook.parse_event + webhook.store_events: the same
`(source, type, conversation_id)` key), then hands the new rows to the worker. A webhook that comes
late is then a duplicate, and a conversation recovered twice is stored once.

Each run is kept (`elevenlabs_sync_runs`) for the System page: when, what was listed, what was
missing and which conversations it recovered, or why it failed.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.conversations import dispatch, webhook
from navaia_app.conversations.models import SyncRun, WebhookEvent
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow

log = get_logger(__name__)

LIST_PATH = "/v1/convai/conversations"
WINDOW = timedelta(hours=24)
PAGE_SIZE = 100  # the API's maximum
MAX_PAGES = 100  # 10,000 conversations a day; beyond that the next run goes on where this one stopped
FINISHED = ("done",)  # analysed: what a post_call_transcription carries; "processing" waits for a later run
MAX_RECOVERED_PER_RUN = 500  # one GET each; what is left waits for the next run (the job stays short)
KEEP_RUNS = 200
MAX_IDS_KEPT = 100
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class SyncFailed(Exception):
    """The ElevenLabs API could not be read; the run is recorded as failed and the next one tries again."""


def _client() -> httpx.Client:
    settings = get_settings()
    return httpx.Client(base_url=settings.elevenlabs_api_base_url.rstrip("/"), timeout=TIMEOUT,
                        headers={"xi-api-key": settings.elevenlabs_api_key or ""})


def _get(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise SyncFailed(f"ElevenLabs could not be reached ({type(exc).__name__})") from exc
    if response.status_code in (401, 403):
        raise SyncFailed(f"ElevenLabs refused the API key ({response.status_code}); check ELEVENLABS_API_KEY")
    if response.status_code >= 400:
        raise SyncFailed(f"ElevenLabs answered HTTP {response.status_code} for {path[:80]}")
    try:
        doc = response.json()
    except ValueError as exc:
        raise SyncFailed(f"ElevenLabs answered {path[:80]} with something that is not JSON") from exc
    if not isinstance(doc, dict):
        raise SyncFailed(f"ElevenLabs answered {path[:80]} with something that is not an object")
    return doc


def list_finished_conversations(client: httpx.Client, *, since: int, agent_id: str | None) -> list[str]:
    """Ids of the conversations started after `since` (unix seconds) that ElevenLabs has finished."""
    ids: list[str] = []
    cursor: str | None = None
    for _page in range(MAX_PAGES):
        params: dict[str, Any] = {"call_start_after_unix": since, "page_size": PAGE_SIZE}
        if agent_id:
            params["agent_id"] = agent_id
        if cursor:
            params["cursor"] = cursor
        doc = _get(client, LIST_PATH, params)
        for item in doc.get("conversations") or []:
            if not isinstance(item, dict):
                continue
            conversation_id = item.get("conversation_id")
            if (isinstance(conversation_id, str) and 0 < len(conversation_id) <= webhook.MAX_ID_LENGTH
                    and item.get("status") in FINISHED):
                ids.append(conversation_id)
        cursor = doc.get("next_cursor")
        if not doc.get("has_more") or not isinstance(cursor, str) or not cursor:
            break
    return list(dict.fromkeys(ids))


def missing_from_inbox(session: Session, conversation_ids: list[str]) -> list[str]:
    """Those of `conversation_ids` whose post_call_transcription the inbox does not hold."""
    held: set[str] = set()
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start:start + 500]
        held.update(session.exec(select(WebhookEvent.external_id).where(
            WebhookEvent.source == webhook.SOURCE, WebhookEvent.event_type == "post_call_transcription",
            WebhookEvent.external_id.in_(chunk))))
    return [cid for cid in conversation_ids if cid not in held]


def _as_webhook(details: dict[str, Any], conversation_id: str) -> webhook.InboundEvent:
    """A conversation from the API in the post-call webhook's own shape (its `data` is the same object)."""
    data = {**details, "conversation_id": details.get("conversation_id") or conversation_id}
    if data["conversation_id"] != conversation_id:
        raise SyncFailed(f"ElevenLabs answered conversation {conversation_id[:40]} with another one")
    body = json.dumps({"type": "post_call_transcription", "event_timestamp": int(time.time()), "data": data,
                       "navaia_recovered_by": "backstop"}).encode()
    try:
        return webhook.parse_event(body)
    except webhook.WebhookRejected as exc:
        raise SyncFailed(f"conversation {conversation_id[:40]}: {exc.detail}") from None


def recover(conversation_ids: list[str], client: httpx.Client) -> tuple[list[str], list[str]]:
    """Fetch each conversation and store it in the inbox: (ids stored now, errors). A webhook that won the
    race makes it a duplicate, not counted. Each is stored on its own, so one bad conversation loses no other."""
    from navaia_app.core.db import get_engine

    stored: list[str] = []
    new_rows: list[int] = []
    errors: list[str] = []
    for conversation_id in conversation_ids:
        try:
            details = _get(client, f"{LIST_PATH}/{conversation_id}")
            event = _as_webhook(details, conversation_id)
        except SyncFailed as exc:
            errors.append(str(exc))
            continue
        event_id = webhook.store_events(get_engine(), [(event, None)])[0]
        if event_id is not None:
            stored.append(conversation_id)
            new_rows.append(event_id)
            log.info("elevenlabs_sync.recovered", conversation_id=conversation_id, event_id=event_id)
    dispatch.schedule_inbox_events(new_rows)  # Redis down: the inbox sweeper hands them over later
    if errors:
        log.warning("elevenlabs_sync.some_not_recovered", failed=len(errors), error=errors[0][:200])
    return stored, errors


def _finish(session: Session, run: SyncRun, status: str, **fields: Any) -> SyncRun:
    for key, value in fields.items():
        setattr(run, key, value)
    run.status, run.finished_at = status, utcnow()
    session.add(run)
    session.flush()
    old = session.exec(select(SyncRun.id).order_by(SyncRun.id.desc()).offset(KEEP_RUNS).limit(1)).first()
    if old is not None:
        session.exec(sa.delete(SyncRun).where(SyncRun.id <= old))
    return run


def sync_conversations(*, session: Session) -> SyncRun:
    """One backstop run (the periodic job's body); the run is committed with what it found."""
    settings = get_settings()
    run = SyncRun(started_at=utcnow())
    if not settings.elevenlabs_api_key:
        return _finish(session, run, "skipped", error="ELEVENLABS_API_KEY is not set")
    since = int((run.started_at - WINDOW).timestamp())
    try:
        with _client() as client:
            listed = list_finished_conversations(client, since=since, agent_id=settings.elevenlabs_agent_id)
            missing = missing_from_inbox(session, listed)
            # The inbox is written on its own connection (as by the webhook route): end this read first,
            # or SQLite would refuse this session's later write on a snapshot older than that commit.
            session.commit()
            recovered, errors = recover(missing[:MAX_RECOVERED_PER_RUN], client) if missing else ([], [])
    except SyncFailed as exc:
        log.warning("elevenlabs_sync.failed", error=str(exc)[:200])
        return _finish(session, run, "failed", error=str(exc)[:500])
    log.info("elevenlabs_sync.done", listed=len(listed), missing=len(missing), recovered=len(recovered))
    status = "failed" if errors and not recovered else "ok"
    return _finish(session, run, status, listed=len(listed), missing=len(missing), recovered=len(recovered),
                   recovered_ids=recovered[:MAX_IDS_KEPT],
                   error=(f"{len(errors)} not recovered: {errors[0]}"[:500] if errors else None))


def last_runs(*, session: Session, limit: int = 5) -> list[SyncRun]:
    return list(session.exec(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)))
