"""Twilio Messaging callbacks: inbound texts (`POST /api/webhooks/twilio/sms`) and the delivery reports of
reminder texts (`POST /api/webhooks/twilio/sms-status`). Both check X-Twilio-Signature like the call
callbacks (403 otherwise). An inbound text is idempotent on its MessageSid; the reply goes back as SMS in
the TwiML answer (Twilio sends it), and a repeated delivery gets the same answer."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from twilio.twiml.messaging_response import MessagingResponse

from navaia_app.core.db import session_scope
from navaia_app.core.logging import get_logger
from navaia_app.reminders import service
from navaia_app.outreach.twilio_webhooks import handle_verified

log = get_logger(__name__)

router = APIRouter(prefix="/api/webhooks/twilio", tags=["webhooks"], include_in_schema=False)


def _twiml(reply: str | None) -> Response:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(content=str(response), media_type="application/xml")


@router.post("/sms")
async def inbound_sms(request: Request):
    """An inbound text (see handle_inbound)."""
    return await handle_verified(request, handle_inbound)


def handle_inbound(params: dict[str, str]) -> Response:
    """The TwiML answer to an inbound text: the reply the reminders service gives (confirm, cancel, stop...),
    once per MessageSid (a repeated delivery gets the same answer). Raises HTTPException 400 without
    MessageSid or From."""
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
    """A reminder text's delivery report (see handle_status)."""
    return await handle_verified(request, handle_status)


def handle_status(params: dict[str, str]) -> JSONResponse:
    """Records a reminder text's delivery status on its reminder ("unknown message" for a MessageSid no
    reminder sent). Raises HTTPException 400 without MessageSid or MessageStatus."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid or not status:
        raise HTTPException(400, "MessageSid and MessageStatus are required.")
    with session_scope() as session:
        reminder = service.record_sms_status(session=session, message_sid=sid, status=status,
                                             error_code=params.get("ErrorCode"))
    log.info("twilio.sms_status", status=status[:20], reminder_id=reminder.id if reminder else None)
    return JSONResponse({"status": "ok" if reminder is not None else "unknown message"})
