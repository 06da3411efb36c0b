"""Twilio Messaging callbacks: inbound texts (`POST /api/webhooks/twilio/sms`) and the delivery reports of
reminder texts (`POST /api/webhooks/twilio/sms-status`). Both check X-Twilio-Signature like the call
callbacks (403 otherwise). An inbound text is idempotent on its MessageSid; the reply goes back as SMS in
the TwiML answer (Twilio sends it), and a repeated delivery gets the same answer."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from twilio.twiml.messaging_response import MessagingResponse

from navaia_app.core.db import session_scope
from navaia_app.core.logging import get_logger
from navaia_app.reminders import service
from navaia_app.outreach.twilio_webhooks import verified_form

log = get_logger(__name__)

router = APIRouter(prefix="/api/webhooks/twilio", tags=["webhooks"], include_in_schema=False)


def _twiml(reply: str | None) -> Response:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(content=str(response), media_type="application/xml")


@router.post("/sms")
async def inbound_sms(request: Request):
    params = await verified_form(request)
    return await run_in_threadpool(handle_inbound, params)


def handle_inbound(params: dict[str, str]) -> Response:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid or not params.get("From"):
        raise HTTPException(400, "MessageSid and From are required.")
    try:
        with session_scope() as session:
            _message, reply = service.handle_inbound_sms(session=session, message_sid=sid, from_phone=params["From"],
                                                         body=params.get("Body", ""))
    except sa.exc.IntegrityError:  # the same MessageSid stored meanwhile by a concurrent delivery
        with session_scope() as session:
            _message, reply = service.handle_inbound_sms(session=session, message_sid=sid, from_phone=params["From"],
                                                         body=params.get("Body", ""))
    return _twiml(reply)


@router.post("/sms-status")
async def sms_status(request: Request):
    params = await verified_form(request)
    return await run_in_threadpool(handle_status, params)


def handle_status(params: dict[str, str]) -> JSONResponse:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid or not status:
        raise HTTPException(400, "MessageSid and MessageStatus are required.")
    with session_scope() as session:
        reminder = service.record_sms_status(session=session, message_sid=sid, status=status,
                                             error_code=params.get("ErrorCode"))
    log.info("twilio.sms_status", status=status[:20], reminder_id=reminder.id if reminder else None)
    return JSONResponse({"status": "ok" if reminder is not None else "unknown message"})
