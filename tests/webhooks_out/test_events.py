"""The events the features emit, with what receivers need: conversation.processed (intent, summary, links)
from the post-call webhook's processing, campaign.completed from the campaign's one completion point."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import select

from navaia_app.campaigns import service as campaigns
from navaia_app.campaigns.models import Campaign, CampaignIn
from navaia_app.core.db import session_scope
from navaia_app.webhooks_out import service
from navaia_app.webhooks_out.models import EVENT_TYPES, OutgoingEvent
from tests.conversations.conftest import ticket_call


def _bodies(event_type: str) -> list[dict]:
    with session_scope() as session:
        return [json.loads(e.payload) for e in session.exec(select(OutgoingEvent).where(
            OutgoingEvent.event_type == event_type).order_by(OutgoingEvent.id))]


def _subscribe(admin) -> None:
    with session_scope() as session:
        service.create_endpoint(session=session, actor=admin, url="http://127.0.0.1:9/hooks",
                                events=list(EVENT_TYPES))


def test_a_processed_call_emits_its_intent_summary_and_links(call_env, set_env, make_user, deliver):
    set_env(OUTGOING_WEBHOOKS_ALLOW_PRIVATE="true", PUBLIC_BASE_URL="https://ops.example.com")
    _subscribe(make_user(email="events-admin@example.com", role="admin"))
    deliver(ticket_call("conv_events_1"))
    (body,) = _bodies("conversation.processed")
    data = body["data"]
    assert body["type"] == "conversation.processed" and data["external_id"] == "conv_events_1"
    assert data["intent"] == "raise_ticket" and data["summary"] and data["ticket_id"]
    assert data["links"] == {"conversation": f"https://ops.example.com/conversations?id={data['id']}",
                             "ticket": f"https://ops.example.com/tickets?id={data['ticket_id']}"}
    (ticket,) = _bodies("ticket.created")
    assert ticket["data"]["id"] == data["ticket_id"] and ticket["data"]["conversation_id"] == data["id"]


def test_campaign_completion_emits_once_with_its_counts(call_env, set_env, make_user):
    set_env(OUTGOING_WEBHOOKS_ALLOW_PRIVATE="true")
    _subscribe(make_user(email="events-admin2@example.com", role="admin"))
    with session_scope() as session:
        campaign = campaigns.create_campaign(session=session, campaign_in=CampaignIn(name="Spring"))
        session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(status="running"))
    for _ in range(2):  # the second check finds it completed already: no second event
        with session_scope() as session:
            campaigns.complete_if_done(session=session, campaign_id=campaign.id)
    (body,) = _bodies("campaign.completed")
    assert body["data"]["id"] == campaign.id and body["data"]["name"] == "Spring"
    assert body["data"]["status"] == "completed" and "counts" in body["data"]
