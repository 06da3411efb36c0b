"""HTTP ways into call automation: the ElevenLabs webhooks, the conversations REST API, call recordings
and the browser-call session. Thin: the rules live in webhook.py and service.py."""

from __future__ import annotations

import os
import time
from typing import Annotated, Literal

import anyio
import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from navaia_app.auth.deps import CurrentUser
from navaia_app.auth.models import User
from navaia_app.conversations import inbox, service, webhook
from navaia_app.conversations.models import Conversation, ConversationOut
from navaia_app.core.api import DB, Page, Problem, SIGNED_IN_ERRORS, problem
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import DB_INT_MAX, DbInt

log = get_logger(__name__)

webhooks_router = APIRouter(tags=["webhooks"])
router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"], responses=SIGNED_IN_ERRORS)
browser_router = APIRouter(tags=["voice agent"], responses=SIGNED_IN_ERRORS)


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytearray:
    """The raw body in one buffer (no second copy), refused (413) as soon as it grows past `limit`."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise webhook.WebhookRejected(413, f"The body is larger than {limit // (1024 * 1024)} MB.")
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise webhook.WebhookRejected(413, f"The body is larger than {limit // (1024 * 1024)} MB.")
    return chunks


# Above this, hashing and parsing run in a worker thread (hashlib releases the GIL), not on the event loop
# that serves every page event and request of this process.
OFF_LOOP_BYTES = 256 * 1024


@webhooks_router.post(
    "/api/webhooks/elevenlabs", summary="ElevenLabs post-call webhook",
    description="Signed with `ElevenLabs-Signature: t=<unix seconds>,v0=<hex HMAC-SHA256 of \"<t>.<raw body>\">`. "
                "Answers 200 once the event is stored; the worker turns it into a booking or a ticket.",
    responses={401: {"description": "Signature missing, malformed, stale or wrong"},
               413: {"description": "Body above 64 MB"}, 422: {"description": "Not a known webhook shape"},
               503: {"description": "No ELEVENLABS_WEBHOOK_SECRET configured, or the database is down"}},
)
async def elevenlabs_webhook(request: Request) -> JSONResponse:
    secret = get_settings().elevenlabs_webhook_secret
    if not secret:
        return _problem(503, "The ElevenLabs webhook is not configured: set ELEVENLABS_WEBHOOK_SECRET.")
    try:
        header = request.headers.get("elevenlabs-signature")
        # cheap things first: a missing, malformed or stale signature is refused before up to 64 MB is read
        webhook.check_signature_header(header, now=time.time())
        body = await _read_body(request, webhook.MAX_BODY_BYTES)
        if len(body) > OFF_LOOP_BYTES:
            def verify_and_parse() -> webhook.InboundEvent:
                webhook.verify_signature(header, body, secret, now=time.time())
                return webhook.parse_event(body)

            event = await anyio.to_thread.run_sync(verify_and_parse)
        else:
            webhook.verify_signature(header, body, secret, now=time.time())
            event = webhook.parse_event(body)
    except webhook.WebhookRejected as exc:
        if exc.status_code != 401:
            log.info("webhook.rejected", status=exc.status_code, detail=exc.detail[:120])
        else:
            log.warning("webhook.unauthenticated", detail=exc.detail)
        return _problem(exc.status_code, exc.detail)
    try:
        media_path = None
        if event.audio is not None:
            media_path = await anyio.to_thread.run_sync(webhook.save_audio, event.external_id, event.audio)
            event.audio = None
        # One INSERT ... ON CONFLICT DO NOTHING, committed (grouped with concurrent requests), then
        # handed to the worker; a failed hand-over is logged and left to the sweeper.
        event_id = await inbox.writer.store(event, media_path)
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        log.error("webhook.database_unavailable", error=str(getattr(exc, "orig", exc))[:200])
        return _problem(503, "The database is unavailable; the event was not stored. Retry shortly.",
                        {"Retry-After": "5"})
    except OSError as exc:
        log.error("webhook.media_unavailable", error=str(exc)[:200])
        return _problem(503, "The recording could not be stored; retry shortly.", {"Retry-After": "5"})
    if event_id is None:
        return JSONResponse({"status": "duplicate"})
    return JSONResponse({"status": "accepted", "event_id": event_id})


if os.environ.get("NAVAIA_BENCH_ECHO") == "1":  # bench/webhooks.py only: the cost of the web stack alone
    @webhooks_router.post("/api/bench/echo", include_in_schema=False)
    async def bench_echo(request: Request) -> JSONResponse:
        body = await _read_body(request, 1024 * 1024)
        return JSONResponse({"status": "ok", "bytes": len(body)})


# --- the REST API -----------------------------------------------------------------------------


ConversationPage = Page[ConversationOut]


def _out(conversation: Conversation) -> ConversationOut:
    out = ConversationOut.model_validate(conversation)
    out.has_audio = bool(conversation.audio_path)
    return out


@router.get("", response_model=ConversationPage, summary="List voice-agent calls (newest first)")
def list_conversations(
    user: CurrentUser, session: DB,
    external_id: str | None = Query(None, max_length=128, description="The ElevenLabs conversation_id"),
    customer_id: DbInt | None = None, needs_review: bool | None = None,
    outcome: str | None = Query(None, max_length=20), intent: str | None = Query(None, max_length=60),
    q: str | None = Query(None, max_length=200, description="Search in title, summary and id"),
    evaluation_failed: bool | None = Query(None, description="true: at least one evaluation criterion failed"),
    handed_off: bool | None = Query(None, description="true: the agent transferred the call to a person"),
    goal_reached: bool | None = None,
    purpose: Literal["campaign", "call_now", "reminder"] | None = Query(
        None, description="Outbound calls made for this purpose (reminder: booking reminder calls)"),
    limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> ConversationPage:
    items, total = service.list_conversations(session=session, external_id=external_id, customer_id=customer_id,
                                              needs_review=needs_review, outcome=outcome, intent=intent, q=q,
                                              evaluation_failed=evaluation_failed, handed_off=handed_off,
                                              goal_reached=goal_reached, purpose=purpose, limit=limit,
                                              offset=offset)
    return ConversationPage(items=[_out(c) for c in items], total=total, limit=limit, offset=offset)


@router.get("/{conversation_id}", response_model=ConversationOut, summary="One call with transcript and analysis",
            responses={404: problem("No such call")})
def get_conversation(conversation_id: DbInt, user: CurrentUser, session: DB) -> ConversationOut:
    return _out(service.get_conversation(session=session, conversation_id=conversation_id))


_bearer = HTTPBearer(auto_error=False)


def signed_in_viewer(
    request: Request, session: DB, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """A bearer token (API) or the web app's session cookie (the audio player and the browser call)."""
    from navaia_app.auth import service as auth_service
    from navaia_app.auth.state import COOKIE

    if credentials is not None and credentials.scheme.lower() == "bearer":
        user = auth_service.resolve_session(session=session, token=credentials.credentials, kind="api")
    else:
        user = auth_service.resolve_session(session=session, token=request.cookies.get(COOKIE), kind="web",
                                            user_agent=request.headers.get("user-agent", ""))
    if user is None:
        raise HTTPException(401, "Sign in to use this.", headers={"WWW-Authenticate": "Bearer"})
    return user


Viewer = Annotated[User, Depends(signed_in_viewer)]


@router.get("/{conversation_id}/audio", summary="The call's recording (MP3)", response_class=FileResponse,
            responses={200: {"content": {"audio/mpeg": {}}},
                       404: {"description": "No such call, or no recording for it",
                             "content": {"application/json": {"schema": Problem.model_json_schema()}}}})
def conversation_audio(conversation_id: DbInt, user: Viewer, session: DB):
    conversation = service.get_conversation(session=session, conversation_id=conversation_id)
    path = webhook.audio_path(conversation.audio_path) if conversation.audio_path else None
    if path is None:
        raise HTTPException(404, "There is no recording for this call.")
    return FileResponse(path, media_type="audio/mpeg", filename=f"call-{conversation.id}.mp3",
                        content_disposition_type="inline", headers={"Cache-Control": "private, max-age=3600"})


# --- browser calls ------------------------------------------------------------------------------


@browser_router.get("/api/voice-agent/session", summary="How the browser starts a call with the voice agent",
                    responses={409: problem("No voice agent is configured"),
                               502: problem("ElevenLabs did not give a call link")})
async def voice_agent_session(user: Viewer) -> JSONResponse:
    """The agent id, and a signed URL when an API key is configured (private agents need one)."""
    settings = get_settings()
    if not settings.elevenlabs_agent_id:
        return _problem(409, "No voice agent is configured: set ELEVENLABS_AGENT_ID (and ELEVENLABS_API_KEY for a "
                             "private agent), then restart Navaia.")
    body: dict[str, str] = {"agent_id": settings.elevenlabs_agent_id}
    if settings.elevenlabs_api_key:
        url = f"{settings.elevenlabs_api_base_url.rstrip('/')}/v1/convai/conversation/get-signed-url"
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url, params={"agent_id": settings.elevenlabs_agent_id},
                                            headers={"xi-api-key": settings.elevenlabs_api_key})
            response.raise_for_status()
            body["signed_url"] = response.json()["signed_url"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            log.warning("voice_agent.signed_url_failed", error=type(exc).__name__)
            return _problem(502, "ElevenLabs did not give a call link; check ELEVENLABS_API_KEY and "
                                 "ELEVENLABS_AGENT_ID.")
    log.info("voice_agent.session", user_id=user.id)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
