"""Twilio's voice callbacks: the status of each outbound call, the TwiML for an answered one, and the
asynchronous answering-machine detection result (`AsyncAmdStatusCallback`, /amd).
(Twilio-only: the other providers report through the ElevenLabs post-call webhook or by polling.)

Both check X-Twilio-Signature with the library's RequestValidator against PUBLIC_BASE_URL plus
the path and query Twilio was given (403 otherwise, as Twilio's own examples do), and treat a
repeated (CallSid, CallStatus) as already seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from navaia_app.core.db import session_scope
from navaia_app.core.logging import bind_log, get_logger
from navaia_app.core.settings import get_settings
from navaia_app.customers.models import Customer
from navaia_app.outreach import calls as service
from navaia_app.outreach.models import CallStatusEvent
from navaia_app.telephony.base import PlacementError
from navaia_app.telephony.twilio import MACHINE_ANSWERS, map_status

log = get_logger(__name__)

router = APIRouter(prefix="/api/webhooks/twilio", tags=["webhooks"], include_in_schema=False)

MAX_FORM_BYTES = 64 * 1024


def public_url(request: Request) -> str:
    """The URL Twilio signed: our public origin, the path, and the query string as sent."""
    base = get_settings().public_base_url.rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def verified_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, once its X-Twilio-Signature checks out against TWILIO_AUTH_TOKEN.

    Raises HTTPException 403 (no token configured, or a missing or wrong signature) or 413 (body over
    MAX_FORM_BYTES)."""
    token = get_settings().twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        log.warning("twilio.webhook_refused", reason="TWILIO_AUTH_TOKEN is not set")
        raise HTTPException(403, "Twilio webhooks are not configured (no TWILIO_AUTH_TOKEN).")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "The request body is too large.")
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    if not signature or not RequestValidator(token).validate(public_url(request), params, signature):
        log.warning("twilio.signature_invalid", path=request.url.path)
        raise HTTPException(403, "Invalid X-Twilio-Signature.")
    return params


async def handle_verified(request: Request, handler: Callable[..., Any], *args: Any) -> Any:
    """What `handler(form, *args)` answers for a Twilio callback whose signature checks out (see
    verified_form, whose HTTPExceptions it raises). The handler runs in a thread: its database work must not
    stall the event loop the web app shares."""
    params = await verified_form(request)
    return await run_in_threadpool(handler, params, *args)


def _seen(session: Session, call_sid: str, status: str) -> CallStatusEvent | None:
    return session.exec(select(CallStatusEvent).where(
        CallStatusEvent.provider == "twilio", CallStatusEvent.provider_call_id == call_sid,
        CallStatusEvent.status == status)).first()


def _remember(call_sid: str, status: str, response: str | None = None) -> bool:
    """Store (CallSid, status) once; False when it was there already (a concurrent duplicate)."""
    import sqlalchemy as sa

    try:
        with session_scope() as session:
            session.add(CallStatusEvent(provider="twilio", provider_call_id=call_sid[:64], status=status[:40],
                                        response=response))
    except sa.exc.IntegrityError:
        return False
    return True


def _number(value: str | None, parse: Callable[[str], Any]) -> Any:
    """`parse(value)` for a number Twilio sent; None when it is absent or unreadable."""
    try:
        return parse(value) if value not in (None, "") else None
    except ValueError:
        return None


@router.post("/status")
async def twilio_status(request: Request):
    """A call's status callback (see handle_status)."""
    return await handle_verified(request, handle_status, request.query_params.get("attempt"))


def handle_status(params: dict[str, str], attempt_key: str | None):
    """Apply one Twilio status callback (once per CallSid and status). Raises HTTPException 400
    without CallSid or CallStatus."""
    call_sid, call_status = params.get("CallSid", ""), params.get("CallStatus", "")
    if not call_sid or not call_status:
        raise HTTPException(400, "CallSid and CallStatus are required.")
    bind_log(provider_call_id=call_sid[:64])
    answered_by = params.get("AnsweredBy")
    key = f"{call_status}:{answered_by}" if answered_by else call_status
    with session_scope() as session:
        if _seen(session, call_sid, key) is not None:
            return JSONResponse({"status": "duplicate"})
    status = map_status(call_status, answered_by)
    if status is None:
        log.info("twilio.status_ignored", call_status=call_status)
        _remember(call_sid, key)
        return JSONResponse({"status": "ignored"})
    detail = None
    if call_status == "canceled":
        detail = "canceled"
    elif call_status == "failed":
        code = params.get("ErrorCode") or params.get("SipResponseCode")
        detail = f"call failed (Twilio {code})" if code else "call failed"
    elif status == "voicemail":
        detail = "answering machine detected"
    with session_scope() as session:
        # The dedupe row and the change commit together: a repeat finds the row, a crash leaves neither.
        session.add(CallStatusEvent(provider="twilio", provider_call_id=call_sid[:64], status=key[:40]))
        session.flush()
        call = service.report_call_update(session=session, provider_call_id=call_sid, status=status,
                                          attempt_key=attempt_key,
                                          duration_seconds=_number(params.get("CallDuration"), int), detail=detail)
        price = _number(params.get("Price"), lambda text: abs(float(text)))  # "-0.01300": charged, negative
        if price is not None:  # when Twilio already knows what the call cost (analytics)
            service.record_attempt_cost(session=session, provider_call_id=call_sid, amount=price,
                                        unit=(params.get("PriceUnit") or "USD")[:8])
    if call is not None:
        bind_log(call_id=call.id, campaign_id=call.campaign_id)
    log.info("twilio.status", call_status=call_status, status=status,
             campaign_call_id=call.id if call is not None else None)
    return JSONResponse({"status": "ok" if call is not None else "unknown call"})


@router.post("/amd")
async def twilio_amd(request: Request):
    """The asynchronous answering-machine detection result (see handle_amd)."""
    return await handle_verified(request, handle_amd, request.query_params.get("attempt"))


def handle_amd(params: dict[str, str], attempt_key: str | None):
    """Asynchronous AMD: a person (or unknown) talks with the agent already; a machine whose greeting ended
    gets the call's voicemail message, or a hang-up (outreach/voicemail.py). Once per (CallSid, AnsweredBy)."""
    from navaia_app.outreach import voicemail
    from navaia_app.telephony import get_provider

    call_sid, answered_by = params.get("CallSid", ""), (params.get("AnsweredBy") or "").lower()
    if not call_sid or not answered_by:
        raise HTTPException(400, "CallSid and AnsweredBy are required.")
    bind_log(provider_call_id=call_sid[:64])
    key = f"amd:{answered_by}"[:40]
    if not _remember(call_sid, key):  # claimed first: a repeat never leaves the message twice
        return JSONResponse({"status": "duplicate"})
    if answered_by not in voicemail.MACHINE_END and answered_by != "fax":
        log.info("twilio.amd", answered_by=answered_by)  # human, unknown, machine_start: the agent goes on
        return JSONResponse({"status": "ignored"})
    with session_scope() as session:
        call, _attempt = service.find_call(session=session, provider_call_id=call_sid, attempt_key=attempt_key)
        message = service.voicemail_message_for(session=session, call=call) \
            if call is not None and answered_by != "fax" else ""
    # The provider is asked outside any transaction (an HTTP call must not hold the database).
    outcome, detail = voicemail.leave_or_hang_up(get_provider("twilio"), call_sid, message, answered_by)
    with session_scope() as session:
        call = service.report_call_update(session=session, provider_call_id=call_sid, status=outcome,
                                          attempt_key=attempt_key, detail=detail)
    log.info("twilio.amd", answered_by=answered_by, outcome=outcome,
             campaign_call_id=call.id if call is not None else None)
    return JSONResponse({"status": outcome if call is not None else "unknown call"})


def _hang_up_twiml() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def _sorry_twiml() -> str:
    response = VoiceResponse()
    response.say("Sorry, we cannot take this call right now. We will call you back. Goodbye.")
    response.hangup()
    return str(response)


def _xml(twiml: str) -> Response:
    return Response(content=twiml, media_type="application/xml")


@router.post("/voice")
async def twilio_voice(request: Request):
    """The TwiML for an answered call (see handle_voice)."""
    return await handle_verified(request, handle_voice, request.query_params.get("attempt"))


def handle_voice(params: dict[str, str], attempt_key: str | None):
    """TwiML for an answered call: the agent for a person, a hang-up for a machine (the answer is
    remembered, so a repeat gets the same TwiML). Raises HTTPException 400 without CallSid."""
    call_sid = params.get("CallSid", "")
    if not call_sid:
        raise HTTPException(400, "CallSid is required.")
    answered_by = (params.get("AnsweredBy") or "").lower()
    key = f"voice:{answered_by}" if answered_by else "voice"
    with session_scope() as session:
        seen = _seen(session, call_sid, key)
        if seen is not None:
            return _xml(seen.response or _hang_up_twiml())
        if answered_by in MACHINE_ANSWERS:  # answering-machine detection: no agent for a machine
            twiml = _hang_up_twiml()
            session.add(CallStatusEvent(provider="twilio", provider_call_id=call_sid[:64], status=key, response=twiml))
            session.flush()
            service.report_call_update(session=session, provider_call_id=call_sid, status="voicemail",
                                       attempt_key=attempt_key, detail="answering machine detected")
            return _xml(twiml)
        call = service.report_call_update(session=session, provider_call_id=call_sid, status="in_progress",
                                          attempt_key=attempt_key)
        variables = {}
        if call is not None:
            customer = session.get(Customer, call.customer_id)
            if customer is not None:
                variables = service.call_variables(session=session, call=call, customer=customer)
    # The agent hand-over happens outside any transaction (an HTTP call must not hold the database).
    from navaia_app.telephony.elevenlabs import register_call

    try:
        twiml = register_call(from_number=params.get("From", ""), to_number=params.get("To", ""),
                              variables=variables)
    except PlacementError as exc:
        log.warning("twilio.agent_unavailable", reason=exc.reason)
        twiml = _sorry_twiml()
        with session_scope() as session:
            service.report_call_update(session=session, provider_call_id=call_sid, status="failed",
                                       attempt_key=attempt_key, detail=f"agent unavailable: {exc.reason}"[:300])
    if not _remember(call_sid, key, twiml):
        with session_scope() as session:
            seen = _seen(session, call_sid, key)
            if seen is not None and seen.response:
                twiml = seen.response
    return _xml(twiml)

