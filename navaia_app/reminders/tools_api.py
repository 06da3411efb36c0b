"""The agent's tools on a reminder call (`POST /api/tools/confirm-booking`, `cancel-booking`,
`reschedule-booking`): X-Agent-Tools-Secret like every tool, plus the call's signed token, which names the
one booking they may act on. Plain (thread-pool) routes, a few indexed queries each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from navaia_app.conversations.tools_api import Authorized
from navaia_app.core.api import DB, problem
from navaia_app.reminders import agent_tools

router = APIRouter(tags=["voice agent tools"], responses={
    401: problem("Missing or wrong X-Agent-Tools-Secret"),
    403: problem("The call token is missing, forged or expired, or names no booking"),
    404: problem("The booking this call is about no longer exists"), 422: problem("Invalid input"),
    503: problem("AGENT_TOOLS_SECRET is not configured")})

TOKEN_HELP = "{{call_token}}: the signed token in this reminder call's dynamic variables"


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    call_token: str | None = Field(None, max_length=4096, description=TOKEN_HELP)


class CancelIn(_Body):
    reason: str | None = Field(None, max_length=500, description="Why the customer cancels, in their words")


class RescheduleIn(_Body):
    appointment_datetime: str | None = Field(
        None, max_length=60, description="The new start (ISO 8601; without an offset: the customer's zone). "
                                         "Omitted: the answer lists free times to offer.")


@router.post("/api/tools/confirm-booking", dependencies=[Authorized], summary="Reminder call: confirm the booking")
def confirm_booking(body: _Body, session: DB) -> dict[str, Any]:
    return agent_tools.confirm_booking(session=session, call_token=body.call_token)


@router.post("/api/tools/cancel-booking", dependencies=[Authorized], summary="Reminder call: cancel the booking")
def cancel_booking(body: CancelIn, session: DB) -> dict[str, Any]:
    return agent_tools.cancel_booking(session=session, call_token=body.call_token, reason=body.reason)


@router.post("/api/tools/reschedule-booking", dependencies=[Authorized],
             summary="Reminder call: offer free times, or move the booking to one")
def reschedule_booking(body: RescheduleIn, session: DB) -> dict[str, Any]:
    return agent_tools.reschedule_booking(session=session, call_token=body.call_token,
                                          appointment_datetime=body.appointment_datetime)
