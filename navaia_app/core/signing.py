"""ElevenLabs webhook signing, written once: the header ElevenLabs sends, and a signed POST.

The post-call webhook (conversations/webhook.py) checks `ElevenLabs-Signature` with
`elevenlabs_mac`; the simulated carrier (telephony/simulated.py) and the Playground send their
events through `post_signed_event`, exactly as ElevenLabs would, so both go through the one
real webhook path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from navaia_app.core.logging import get_logger

log = get_logger(__name__)

SIGNATURE_HEADER = "ElevenLabs-Signature"


def elevenlabs_mac(body: bytes, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of `"<timestamp>.<raw body>"` keyed by `secret` (the `v0` of the header)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)  # no "<t>." + body copy of a body that may be 64 MB
    return mac.hexdigest()


def sign_elevenlabs(body: bytes, secret: str, timestamp: int) -> str:
    """The `ElevenLabs-Signature` header value for `body`: `t=<timestamp>,v0=<hex mac>`."""
    return f"t={timestamp},v0={elevenlabs_mac(body, secret, timestamp)}"


def signed_event_request(doc: dict[str, Any], secret: str, *, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The JSON body of `doc` and the headers (content type and signature) to POST it with."""
    body = json.dumps(doc).encode()
    stamp = int(time.time() if now is None else now)
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign_elevenlabs(body, secret, stamp)}


def post_signed_event(url: str, doc: dict[str, Any], secret: str, *, timeout: float = 10) -> httpx.Response:
    """POST `doc` to `url` signed as ElevenLabs signs its webhooks. Raises httpx.HTTPError when the
    request cannot be made; any HTTP answer (even 4xx/5xx) is returned for the caller to judge."""
    body, headers = signed_event_request(doc, secret)
    return httpx.post(url, content=body, headers=headers, timeout=timeout)


async def post_signed_event_async(url: str, doc: dict[str, Any], secret: str, *,
                                  timeout: float = 10) -> httpx.Response:
    """`post_signed_event` for async callers (Reflex handlers must not block the event loop)."""
    body, headers = signed_event_request(doc, secret)
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await client.post(url, content=body, headers=headers)


def send_to_own_webhook(doc: dict[str, Any]) -> int | None:
    """POST a post-call event to our own ElevenLabs webhook (PUBLIC_BASE_URL), signed with
    ELEVENLABS_WEBHOOK_SECRET, as ElevenLabs would. Returns the answer's status code; None when
    there is no secret or the webhook cannot be reached (logged, never raised)."""
    from navaia_app.core.settings import get_settings

    settings = get_settings()
    if not settings.elevenlabs_webhook_secret:
        return None
    url = settings.public_base_url.rstrip("/") + "/api/webhooks/elevenlabs"
    try:
        response = post_signed_event(url, doc, settings.elevenlabs_webhook_secret)
    except httpx.HTTPError as exc:
        log.warning("webhook.self_post_failed", url=url, error=type(exc).__name__)
        return None
    if response.status_code >= 300:
        log.warning("webhook.self_post_refused", status=response.status_code, body=response.text[:200])
    return response.status_code


def call_own_agent_tool(tool: str, body: dict[str, Any], *, timeout: float = 10) -> dict[str, Any] | None:
    """POST `body` to our own agent tool `/api/tools/<tool>` (PUBLIC_BASE_URL) with AGENT_TOOLS_SECRET, as the
    voice agent calls it during a call. Returns the tool's JSON answer; None when there is no secret, the API
    cannot be reached or refuses (logged, never raised)."""
    from navaia_app.core.settings import get_settings

    settings = get_settings()
    if not settings.agent_tools_secret:
        return None
    url = settings.public_base_url.rstrip("/") + f"/api/tools/{tool}"
    try:
        response = httpx.post(url, json=body, headers={"X-Agent-Tools-Secret": settings.agent_tools_secret},
                              timeout=timeout)
    except httpx.HTTPError as exc:
        log.warning("agent_tool.self_call_failed", tool=tool, error=type(exc).__name__)
        return None
    if response.status_code >= 300:
        log.warning("agent_tool.self_call_refused", tool=tool, status=response.status_code, body=response.text[:200])
        return None
    return response.json()
