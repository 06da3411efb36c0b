"""Analytics and exports through HTTP; the post-call webhook filling evaluation, hand-off and cost."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt
from navaia_app.conversations.models import Conversation, ConversationEvaluation
from navaia_app.customers.models import Customer
from tests.conversations.conftest import sample, ticket_call  # noqa: F401 - fixtures below come from there
from tests.conversations.conftest import call_env, deliver, post_webhook  # noqa: F401

pytestmark = pytest.mark.usefixtures("call_env")


def _campaign_with_calls(session):
    campaign = Campaign(name="Spring")
    session.add(campaign)
    session.flush()
    rows = [("=HYPERLINK(\"http://evil\")", "+12125550101", "completed", 40),
            ("@SUM(A1)", "+12125550102", "voicemail_left", None),
            ("Plain Name", "+12125550103", "busy", None)]
    for n, (name, phone, outcome, duration) in enumerate(rows):
        customer = Customer(name=name, phone=phone, timezone="America/New_York")
        session.add(customer)
        session.flush()
        call = CampaignCall(campaign_id=campaign.id, customer_id=customer.id, status=outcome, attempts=1,
                            last_outcome=outcome, last_detail="-detail" if n == 2 else None)
        session.add(call)
        session.flush()
        session.add(CampaignCallAttempt(campaign_call_id=call.id, campaign_id=campaign.id, number=1,
                                        idempotency_key=f"api-{n}", provider="twilio", status="ended",
                                        outcome=outcome, duration_seconds=duration,
                                        placed_at=datetime(2026, 11, 2, 15, n, tzinfo=timezone.utc)))
    session.commit()
    return campaign


def test_campaign_analytics_route(api_client, auth_headers, session):
    campaign = _campaign_with_calls(session)
    response = api_client.get(f"/api/v1/analytics/campaigns/{campaign.id}", headers=auth_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] | {} == {"dialled": 3, "answered": 1, "voicemail": 0, "voicemail_left": 1, "no_answer": 0,
                                   "busy": 1, "failed": 0, "goal_reached": 0, "in_progress": 0}
    # 15:00 UTC on Monday 2 November 2026 is 10:00 in New York (EST)
    cell = next(c for c in body["heatmap"] if c["weekday"] == "mon" and c["hour"] == 10)
    assert (cell["dialled"], cell["answered"]) == (3, 1)
    assert body["talk_time"]["median_seconds"] == 40
    assert api_client.get(f"/api/v1/analytics/campaigns/{campaign.id}").status_code == 401
    assert api_client.get("/api/v1/analytics/campaigns/999999", headers=auth_headers).status_code == 404
    bad = api_client.get(f"/api/v1/analytics/campaigns/{campaign.id}?start=soon", headers=auth_headers)
    assert bad.status_code == 422 and "start" in bad.json()["detail"]
    period = api_client.get("/api/v1/analytics/calls?start=2026-11-01&end=2026-11-02", headers=auth_headers)
    assert period.status_code == 200 and period.json()["counts"]["dialled"] == 3
    outside = api_client.get("/api/v1/analytics/calls?start=2026-10-01&end=2026-10-31", headers=auth_headers)
    assert outside.json()["counts"]["dialled"] == 0


def test_campaign_calls_csv_neutralises_formulas(api_client, auth_headers, session):
    campaign = _campaign_with_calls(session)
    response = api_client.get(f"/api/v1/campaigns/{campaign.id}/calls.csv", headers=auth_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3
    assert rows[0]["customer_name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["customer_name"] == "'@SUM(A1)" and rows[1]["status"] == "voicemail_left"
    assert rows[2]["customer_name"] == "Plain Name" and rows[2]["last_detail"] == "'-detail"
    assert rows[0]["phone"] == "'+12125550101"
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())
    assert api_client.get(f"/api/v1/campaigns/{campaign.id}/calls.csv").status_code == 401
    assert api_client.get("/api/v1/campaigns/999999/calls.csv", headers=auth_headers).status_code == 404


def _evaluated_call(conversation_id: str, *, results: dict, transfer: str | None = None, cost: int = 321) -> dict:
    doc = ticket_call(conversation_id)
    doc["data"]["analysis"]["call_successful"] = "failure"
    doc["data"]["analysis"]["evaluation_criteria_results"] = {
        name: {"criteria_id": name, "result": result, "rationale": f"why {name} {result}"}
        for name, result in results.items()}
    doc["data"]["metadata"]["cost"] = cost
    if transfer:
        doc["data"]["transcript"].append({
            "role": "agent", "message": "Transferring you now.", "time_in_call_secs": 30,
            "tool_calls": [{"type": "system", "tool_name": "transfer_to_number", "request_id": "r1",
                            "params_as_json": json.dumps({"transfer_number": transfer, "reason": "asked"})}],
            "tool_results": [{"tool_name": "transfer_to_number", "is_error": False, "result_value": "ok"}]})
    return doc


def test_post_call_data_fills_evaluation_handoff_and_cost(deliver, session, api_client, auth_headers):
    deliver(_evaluated_call("conv-eval-1", results={"polite": "success", "resolved": "failure"},
                            transfer="(415) 555-0199"))
    deliver(_evaluated_call("conv-eval-2", results={"polite": "success"}))
    first = session.exec(select(Conversation).where(Conversation.external_id == "conv-eval-1")).one()
    assert first.evaluation["resolved"] == {"result": "failure", "rationale": "why resolved failure"}
    assert first.evaluation_failed and first.cost == 321
    assert first.handed_off_to == "+14155550199"
    assert (first.handed_off_at - first.started_at).total_seconds() == 30  # the transfer turn's time in the call
    assert first.goal_reached  # the ticket was raised
    rows = session.exec(select(ConversationEvaluation).where(ConversationEvaluation.conversation_id == first.id)).all()
    assert {(r.criterion, r.result) for r in rows} == {("polite", "success"), ("resolved", "failure")}

    def listed(**params):
        response = api_client.get("/api/v1/conversations", params=params, headers=auth_headers)
        assert response.status_code == 200, response.text
        return {item["external_id"] for item in response.json()["items"]}

    assert listed(evaluation_failed="true") == {"conv-eval-1"}
    assert listed(evaluation_failed="false") == {"conv-eval-2"}
    assert listed(handed_off="true") == {"conv-eval-1"}
    assert listed(handed_off="false") == {"conv-eval-2"}
    detail = api_client.get(f"/api/v1/conversations/{first.id}", headers=auth_headers).json()
    assert detail["evaluation"]["resolved"]["rationale"] == "why resolved failure"
    assert detail["handed_off_to"] == "+14155550199"

    exported = api_client.get("/api/v1/conversations/export.csv", params={"handed_off": "true"},
                              headers=auth_headers)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["external_id"] for r in rows] == ["conv-eval-1"]
    assert rows[0]["evaluation"] == "polite=success; resolved=failure"
    assert rows[0]["handed_off_to"] == "'+14155550199"
    bad = api_client.get("/api/v1/conversations/export.csv", params={"outcome": "nope"}, headers=auth_headers)
    assert bad.status_code == 422


def test_redelivered_transcription_keeps_one_evaluation_row_each(deliver, session, post_webhook):
    doc = _evaluated_call("conv-eval-3", results={"polite": "unknown"})
    deliver(doc)
    assert post_webhook(doc).json()["status"] == "duplicate"
    rows = session.exec(select(ConversationEvaluation)).all()
    assert [(r.criterion, r.result) for r in rows] == [("polite", "unknown")]
