"""Campaigns and their calls. (The campaigns work extends this module: audience, dispatch, retries.)"""

from __future__ import annotations

from sqlmodel import Session, select

from navaia_app.campaigns.models import CALL_STATUSES, CampaignCall
from navaia_app.core import live
from navaia_app.core.errors import ValidationFailed
from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow

log = get_logger(__name__)


def record_call_outcome(
    *, session: Session, outcome: str, campaign_call_id: int | None = None, provider_call_id: str | None = None,
    conversation_id: int | None = None, duration_seconds: int | None = None, detail: str | None = None,
) -> CampaignCall | None:
    """Record what happened to an outbound call (found by id or by the provider's call id).

    Returns the campaign call, or None when no call matches (an inbound call, say)."""
    if outcome not in CALL_STATUSES:
        raise ValidationFailed(f"Unknown call outcome '{outcome}'.", field="outcome")
    call = None
    if campaign_call_id is not None:
        call = session.get(CampaignCall, campaign_call_id)
    if call is None and provider_call_id:
        call = session.exec(select(CampaignCall).where(CampaignCall.provider_call_id == provider_call_id)).first()
    if call is None:
        return None
    call.status = outcome
    call.last_outcome = detail or outcome
    if conversation_id is not None:
        call.conversation_id = conversation_id
    if duration_seconds is not None:
        call.duration_seconds = duration_seconds
    call.updated_at = utcnow()
    session.add(call)
    live.bump(session, "campaigns")
    log.info("campaign_call.outcome", campaign_call_id=call.id, campaign_id=call.campaign_id, outcome=outcome)
    return call
