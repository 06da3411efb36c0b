"""The ElevenLabs post-call webhook's way in: signature, shape, the inbox row. Nothing slow happens here.

The HTTP route (conversations/api.py) reads the raw body in a bounded way, calls
`verify_signature` and `parse_event`, then stores the event (inbox.py: one INSERT ... ON CONFLICT
DO NOTHING and a commit, grouped with concurrent requests), hands it to the worker and answers 200.
Everything else (customer matching, bookings, tickets) happens later in
`service.process_inbox_event`, in a job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from navaia_app.conversations.models import EVENT_TYPES, WebhookEvent
from navaia_app.core.signing import elevenlabs_mac
from navaia_app.core.types import utcnow

SOURCE = "elevenlabs"
MAX_BODY_BYTES = 64 * 1024 * 1024  # an hour-long call's post_call_audio is about 40 MB of base64
TOLERANCE_SECONDS = 30 * 60
MAX_ID_LENGTH = 128
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class WebhookRejected(Exception):
    """The request is refused; nothing was written. `status_code` and `detail` go to the sender."""

    def __init__(self, status_code: int, detail: str):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def check_signature_header(header: str | None, *, now: float) -> tuple[int, list[str]]:
    """The cheap half of the check, before any body is read: the header is there, well-formed and its
    timestamp is within 30 minutes either way. Returns (timestamp, the v0 signatures given)."""
    if not header:
        raise WebhookRejected(401, "Missing ElevenLabs-Signature header.")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookRejected(401, "Malformed ElevenLabs-Signature header (expected t=<seconds>,v0=<hex>).")
        if key == "t":
            if not value.isdigit() or len(value) > 12:
                raise WebhookRejected(401, "Malformed ElevenLabs-Signature timestamp.")
            timestamp = int(value)
        elif key == "v0":
            if _HEX64.match(value):
                candidates.append(value.lower())
    if timestamp is None or not candidates:
        raise WebhookRejected(401, "Malformed ElevenLabs-Signature header (expected t=<seconds>,v0=<hex>).")
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise WebhookRejected(401, "ElevenLabs-Signature timestamp is outside the 30-minute window.")
    return timestamp, candidates


def verify_signature(header: str | None, body: bytes, secret: str, *, now: float) -> None:
    """`t=<unix seconds>,v0=<hex HMAC-SHA256 of "<t>.<raw body>">`, within 30 minutes either way."""
    timestamp, candidates = check_signature_header(header, now=now)
    expected = elevenlabs_mac(body, secret, timestamp)
    # Compare against every v0 given (key rotation), each in constant time, without stopping early.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookRejected(401, "ElevenLabs-Signature does not match the body.")


@dataclass
class InboundEvent:
    event_type: str
    external_id: str  # the ElevenLabs conversation_id
    payload: str  # what is kept in the inbox: the signed JSON (without the audio for post_call_audio)
    audio: bytes | None = None


def parse_event(body: bytes) -> InboundEvent:
    """The minimal shape check that decides whether the event goes into the inbox (422/400 otherwise)."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "The request body is not valid JSON.") from None
    if not isinstance(doc, dict):
        raise WebhookRejected(422, "The request body must be a JSON object with type, event_timestamp and data.")
    event_type = doc.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise WebhookRejected(422, "type: a string is required.")
    if event_type not in EVENT_TYPES:
        raise WebhookRejected(422, f"Unknown webhook type '{event_type[:60]}' (known: {', '.join(EVENT_TYPES)}).")
    timestamp = doc.get("event_timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, (int, float))):
        raise WebhookRejected(422, "event_timestamp: a number of seconds is required.")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise WebhookRejected(422, "data: an object is required.")
    conversation_id = data.get("conversation_id")
    if not isinstance(conversation_id, str) or not conversation_id.strip():
        raise WebhookRejected(422, "data.conversation_id: a string is required.")
    if len(conversation_id) > MAX_ID_LENGTH:
        raise WebhookRejected(422, f"data.conversation_id is longer than {MAX_ID_LENGTH} characters.")
    if event_type == "post_call_transcription":
        for key, kind in (("transcript", list), ("analysis", dict), ("metadata", dict)):
            if data.get(key) is not None and not isinstance(data[key], kind):
                raise WebhookRejected(422, f"data.{key}: {'a list' if kind is list else 'an object'} is expected.")
        return InboundEvent(event_type, conversation_id, body.decode("utf-8"))
    if event_type == "post_call_audio":
        encoded = data.get("full_audio")
        if not isinstance(encoded, str) or not encoded:
            raise WebhookRejected(422, "data.full_audio: base64-encoded audio is required.")
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRejected(422, "data.full_audio is not valid base64.") from None
        slim = {**doc, "data": {k: v for k, v in data.items() if k != "full_audio"}}
        slim["data"]["full_audio_bytes"] = len(audio)
        return InboundEvent(event_type, conversation_id, json.dumps(slim), audio=audio)
    # call_initiation_failure
    reason = data.get("failure_reason")
    if reason is not None and not isinstance(reason, str):
        raise WebhookRejected(422, "data.failure_reason: a string is expected.")
    return InboundEvent(event_type, conversation_id, body.decode("utf-8"))


# --- audio files ----------------------------------------------------------------------------


def media_root() -> Path:
    from navaia_app.core.settings import get_settings

    return Path(get_settings().media_dir).expanduser().resolve()


def audio_file_name(external_id: str) -> str:
    # A hash, not the id itself: ids come from outside and must never shape a path.
    return f"audio/{hashlib.sha256(external_id.encode()).hexdigest()[:40]}.mp3"


def save_audio(external_id: str, audio: bytes) -> str:
    """Write the recording durably (temp file, fsync, rename); returns its path relative to MEDIA_DIR."""
    relative = audio_file_name(external_id)
    target = media_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    with open(temp, "wb") as handle:
        handle.write(audio)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, target)
    return relative


def audio_path(relative: str) -> Path | None:
    """The absolute path of a stored recording, only if it lies inside MEDIA_DIR and exists."""
    root = media_root()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


# --- the inbox row ----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _insert_statement(dialect: str):
    table = WebhookEvent.__table__
    keys = ["source", "event_type", "external_id"]
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - the app runs on SQLite and PostgreSQL only
        stmt = sa.insert(table)
    return stmt.returning(table.c.id, table.c.event_type, table.c.external_id)


def _row(event: InboundEvent, media_path: str | None) -> dict[str, Any]:
    return {"source": SOURCE, "event_type": event.event_type, "external_id": event.external_id,
            "payload": event.payload, "status": "pending", "attempts": 0, "received_at": utcnow(),
            "media_path": media_path}


def insert_events(conn: sa.Connection, events: list[tuple[InboundEvent, str | None]]) -> list[int | None]:
    """Insert events into the inbox in the transaction `conn` is in; for each, its new id, or None when the
    same (type, conversation) was stored already (or earlier in this very batch)."""
    rows = conn.execute(_insert_statement(conn.dialect.name), [_row(e, m) for e, m in events]).all()
    new = {(event_type, external_id): event_id for event_id, event_type, external_id in rows}
    return [new.pop((event.event_type, event.external_id), None) for event, _media in events]


def store_events_on(conn: sa.Connection, events: list[tuple[InboundEvent, str | None]]) -> list[int | None]:
    """insert_events in ONE transaction of its own on `conn`, committed."""
    with conn.begin():
        return insert_events(conn, events)


def store_events(engine: sa.Engine, events: list[tuple[InboundEvent, str | None]]) -> list[int | None]:
    with engine.connect() as conn:
        return store_events_on(conn, events)
