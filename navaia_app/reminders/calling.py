"""A reminder call goes through the one outbound pipeline, like every call: eligibility, pacing, the call
and attempt state machine with its idempotency keys, the providers (simulated, Twilio, ElevenLabs) and
their callbacks all live there. This module is the only place the reminders feature touches it.

Today the pipeline's entry point for a call that belongs to no campaign is a one-off call row
(`CampaignCall` with no campaign) that the dispatcher places; what became of it is read back from that row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from navaia_app.campaigns import service as calls
from navaia_app.campaigns.models import DONE_CALL_STATUSES, CampaignCall

PURPOSE = "booking reminder"


@dataclass(frozen=True)
class CallState:
    final: bool
    outcome: str | None  # completed, busy, no_answer, failed, voicemail, skipped, cancelled
    detail: str | None
    conversation_id: int | None


def place(session: Session, *, customer_id: int, variables: dict[str, str], now: datetime) -> int:
    """Hand one reminder call to the pipeline (in the caller's transaction); returns the pipeline's call id."""
    call = CampaignCall(campaign_id=None, customer_id=customer_id, status="pending", next_attempt_at=now,
                        variables={**variables, "purpose": PURPOSE}, created_at=now, updated_at=now)
    session.add(call)
    session.flush()
    calls.bump(session)
    calls.kick_after_commit(session)  # the dispatcher places it once this commits
    return call.id


def states(session: Session, call_ids: list[int]) -> dict[int, CallState]:
    out: dict[int, CallState] = {}
    if not call_ids:
        return out
    rows = session.exec(select(CampaignCall.id, CampaignCall.status, CampaignCall.last_detail,
                               CampaignCall.skip_reason, CampaignCall.conversation_id)
                        .where(CampaignCall.id.in_(call_ids))).all()
    for call_id, status, detail, skip_reason, conversation_id in rows:
        out[call_id] = CallState(final=status in DONE_CALL_STATUSES, outcome=status,
                                 detail=skip_reason or detail, conversation_id=conversation_id)
    return out


def withdraw(session: Session, call_id: int, now: datetime) -> None:
    """The booking no longer needs this call: cancel it if the pipeline has not started it."""
    session.exec(sa.update(CampaignCall).where(CampaignCall.id == call_id, CampaignCall.status == "pending")
                 .values(status="cancelled", skip_reason="booking reminder no longer needed", next_attempt_at=None,
                         updated_at=now))
