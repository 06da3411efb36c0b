"""The voice agent's server tools (`POST /api/tools/{tool}`) and the conversation-initiation webhook.

Both authenticate with the shared secret in `X-Agent-Tools-Secret` (AGENT_TOOLS_SECRET). Each tool
is bound to its call by `call_token` / `caller_id` (conversations/call_binding.py), which the agent
fills from dynamic variables, not from the model. Plain (thread-pool) routes: each is a few indexed
queries, well inside the agent's 300 ms budget.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from navaia_app.conversations import agent_tools
from navaia_app.conversations.call_binding import bind_call
from navaia_app.core.api import DB, problem
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings

log = get_logger(__name__)

router = APIRouter(tags=["voice agent tools"], responses={
    401: problem("Missing or wrong X-Agent-Tools-Secret"), 422: problem("Invalid input"),
    403: problem("The call token is forged or expired"),
    503: problem("AGENT_TOOLS_SECRET is not configured")})


def require_tools_secret(
    x_agent_tools_secret: Annotated[str | None, Header(description="The AGENT_TOOLS_SECRET")] = None,
) -> None:
    expected = get_settings().agent_tools_secret
    if not expected:
        raise HTTPException(503, "The agent tools are not configured: set AGENT_TOOLS_SECRET.")
    if not x_agent_tools_secret or not hmac.compare_digest(x_agent_tools_secret.encode(), expected.encode()):
        log.warning("agent_tool.unauthenticated")
        raise HTTPException(401, "Missing or wrong X-Agent-Tools-Secret.")


Authorized = Depends(require_tools_secret)
Loose = str | int | float | None  # agents send numbers as strings and the other way round


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _CallBody(_Body):
    """What binds a tool call to its call: filled by the platform from dynamic variables, never by the model."""

    call_token: str | None = Field(None, max_length=4096, description="{{call_token}} (dynamic variable)")
    caller_id: str | None = Field(None, max_length=40, description="{{system__caller_id}} (dynamic variable)")


class LookupIn(_CallBody):
    phone: str | None = Field(None, max_length=40, description="A phone number the caller gives")
    email: str | None = Field(None, max_length=254)
    customer_id: Loose = None


class AvailabilityIn(_CallBody):
    date: str | None = Field(None, max_length=40, description="YYYY-MM-DD; omitted: the next days")
    appointment_datetime: str | None = Field(None, max_length=60, description="Is this exact time free?")
    duration_minutes: Loose = None
    customer_id: Loose = None  # ignored: the time zone is the bound customer's
    customer_phone: str | None = Field(None, max_length=40)  # ignored, likewise


class CustomerFields(_CallBody):
    customer_id: Loose = None
    customer_phone: str | None = Field(None, max_length=40)
    customer_name: str | None = Field(None, max_length=120)
    customer_email: str | None = Field(None, max_length=254)
    conversation_id: str | None = Field(None, max_length=128, description="{{system__conversation_id}}")


class BookIn(CustomerFields):
    service: str = Field(max_length=120)
    appointment_datetime: str = Field(max_length=60)
    duration_minutes: Loose = None
    notes: str | None = Field(None, max_length=4000)


class TicketIn(CustomerFields):
    issue_summary: str = Field(max_length=200)
    issue_details: str | None = Field(None, max_length=10_000)
    priority: str | None = Field(None, max_length=20)
    category: str | None = Field(None, max_length=60)


class HandoffIn(_CallBody):
    reason: str | None = Field(None, max_length=500, description="Why the caller wants a person")
    summary: str | None = Field(None, max_length=8000, description="The conversation so far")
    phone: str | None = Field(None, max_length=40, description="A number to call back, if the caller gives one")
    conversation_id: str | None = Field(None, max_length=128, description="{{system__conversation_id}}")


class InitiationIn(_Body):
    caller_id: str | None = Field(None, max_length=40)
    agent_id: str | None = Field(None, max_length=128)
    called_number: str | None = Field(None, max_length=40)
    call_sid: str | None = Field(None, max_length=64)


def _binding(session, body: _CallBody):
    return bind_call(session=session, call_token=body.call_token, caller_id=body.caller_id)


@router.post("/api/tools/lookup-customer", dependencies=[Authorized], summary="Who is calling")
def lookup_customer(body: LookupIn, session: DB) -> dict[str, Any]:
    return agent_tools.lookup_customer(session=session, binding=_binding(session, body), customer_id=body.customer_id,
                                       phone=body.phone, email=body.email)


@router.post("/api/tools/check-availability", dependencies=[Authorized], summary="Free appointment times")
def check_availability(body: AvailabilityIn, session: DB) -> dict[str, Any]:
    return agent_tools.check_availability(session=session, binding=_binding(session, body), date_text=body.date,
                                          appointment_datetime=body.appointment_datetime,
                                          duration_minutes=body.duration_minutes)


@router.post("/api/tools/book-appointment", dependencies=[Authorized], summary="Book a free time")
def book_appointment(body: BookIn, session: DB) -> dict[str, Any]:
    return agent_tools.book_appointment(
        session=session, binding=_binding(session, body), service=body.service, appointment_datetime=body.appointment_datetime,
        duration_minutes=body.duration_minutes, notes=body.notes or "", customer_id=body.customer_id,
        customer_phone=body.customer_phone, customer_name=body.customer_name, customer_email=body.customer_email,
        conversation_id=body.conversation_id)


@router.post("/api/tools/raise-ticket", dependencies=[Authorized], summary="Open a support ticket")
def raise_ticket(body: TicketIn, session: DB) -> dict[str, Any]:
    return agent_tools.raise_ticket(
        session=session, binding=_binding(session, body), issue_summary=body.issue_summary, issue_details=body.issue_details or "",
        priority=body.priority, category=body.category or "", customer_id=body.customer_id,
        customer_phone=body.customer_phone, customer_name=body.customer_name, customer_email=body.customer_email,
        conversation_id=body.conversation_id)


@router.post("/api/tools/request-handoff", dependencies=[Authorized], summary="Hand the caller to a person",
             description="Inside a hand-off number's staffed hours: `transfer: true` and `transfer_number` (the agent "
                         "then uses its transfer_to_number system tool). Outside them: a call-back ticket and "
                         "`callback_at`, when someone will call back.")
def request_handoff(body: HandoffIn, session: DB) -> dict[str, Any]:
    return agent_tools.request_handoff(session=session, binding=_binding(session, body), reason=body.reason,
                                       summary=body.summary, phone=body.phone, conversation_id=body.conversation_id)


@router.post("/api/tools/{tool}", dependencies=[Authorized], include_in_schema=False)
def unknown_tool(tool: str) -> None:
    raise HTTPException(404, f"Unknown tool '{tool[:60]}' (tools: lookup-customer, check-availability, "
                             "book-appointment, raise-ticket, request-handoff).")


@router.post("/api/webhooks/elevenlabs/initiation", dependencies=[Authorized],
             summary="Conversation-initiation webhook: dynamic variables for an inbound caller")
def conversation_initiation(body: InitiationIn, session: DB) -> dict[str, Any]:
    return agent_tools.initiation_data(session=session, caller_id=body.caller_id)
