"""The campaign purpose of the outbound pipeline: what outreach asks a campaign's rules.

Registered with outreach.purposes (this module is named in its POLICY_MODULES). Thin: every rule
lives in campaigns/service.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from navaia_app.campaigns import service
from navaia_app.campaigns.models import Campaign
from navaia_app.campaigns.schedule import CallingWindow
from navaia_app.outreach.purposes import CallPolicy, LaneSpec, register_purpose


class CampaignPolicy(CallPolicy):
    """A campaign's calls: its calling window, variables and retry policy; its own paced lane; it
    completes when its last call ends, and pauses when the provider refuses our credentials."""

    purpose = "campaign"
    cached_models = (Campaign,)

    def _campaign(self, session: Session, call: Any) -> Campaign | None:
        return session.get(Campaign, call.campaign_id) if call.campaign_id is not None else None

    def window(self, session: Session, call: Any) -> CallingWindow | None:
        campaign = self._campaign(session, call)
        return service.window_of(campaign) if campaign is not None else None

    def variables(self, session: Session, call: Any) -> dict[str, str]:
        campaign = self._campaign(session, call)
        return {k: str(v) for k, v in (campaign.variables or {}).items()} if campaign is not None else {}

    def voicemail_message(self, session: Session, call: Any) -> str:
        campaign = self._campaign(session, call)
        return (campaign.voicemail_message or "") if campaign is not None else ""

    def topic(self, session: Session, call: Any) -> str:
        campaign = self._campaign(session, call)
        return campaign.purpose if campaign is not None else ""

    def retry_at(self, session: Session, call: Any, outcome: str, now: datetime) -> datetime | None:
        campaign = self._campaign(session, call)
        if campaign is None:
            return None
        return service.retry_time(session=session, campaign=campaign, call=call, outcome=outcome, now=now)

    def on_final(self, session: Session, call: Any, now: datetime, *, batched: bool) -> None:
        campaign = self._campaign(session, call)
        if campaign is not None and campaign.status == "running" and not batched:
            session.flush()
            service.complete_if_done(session=session, campaign_id=campaign.id, now=now)

    def on_auth_failure(self, session: Session, call: Any, reason: str) -> None:
        campaign = self._campaign(session, call)
        if campaign is not None and campaign.status in ("running", "scheduled"):
            service.pause_campaign(session=session, campaign_id=campaign.id, reason=reason)

    def lanes(self, session: Session, now: datetime) -> list[LaneSpec]:
        running = session.exec(select(Campaign).where(Campaign.status == "running")
                               .execution_options(populate_existing=True))
        return [LaneSpec(campaign_id=c.id, rate=c.calls_per_second, max_concurrent=c.max_concurrent_calls)
                for c in running]

    def before_dispatch(self, session: Session, now: datetime) -> None:
        service.start_due_scheduled(session=session, now=now)

    def close_lane(self, session: Session, campaign_id: int, now: datetime) -> bool:
        return service.complete_if_done(session=session, campaign_id=campaign_id, now=now)

    def reconcile(self, session: Session, now: datetime) -> dict[str, Any]:
        started = service.start_due_scheduled(session=session, now=now)
        running = list(session.exec(select(Campaign.id).where(Campaign.status == "running")))
        completed = [cid for cid in running if service.complete_if_done(session=session, campaign_id=cid, now=now)]
        return {"started": started, "completed": completed}


register_purpose(CampaignPolicy())
