"""Analytics figures against counts computed here, independently, from the rows the test made (both databases)."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from navaia_app.analytics import service
from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt
from navaia_app.conversations.models import Conversation, ConversationEvaluation
from navaia_app.core.errors import NotFound, ValidationFailed
from navaia_app.customers.models import Customer

ZONES = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", None]  # None: the business zone (UTC here)
OUTCOMES = ["completed", "completed", "voicemail", "voicemail_left", "no_answer", "busy", "failed", None]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _seed(session, *, calls: int = 120, seed: int = 7):
    """Two campaigns and one-off calls, attempts spread over 40 days across a DST change; returns what was made."""
    rng = random.Random(seed)
    customers = []
    for i in range(calls):
        customer = Customer(name=f"C{i}", phone=f"+1212555{i:04d}", timezone=ZONES[i % len(ZONES)])
        session.add(customer)
        customers.append(customer)
    first, second = Campaign(name="First"), Campaign(name="Second")
    session.add_all([first, second])
    session.flush()
    made = []
    for n in range(calls):
        campaign = rng.choice([first, second, None])
        customer = customers[n % len(customers)]
        call = CampaignCall(campaign_id=campaign.id if campaign else None, customer_id=customer.id,
                            status="completed")
        session.add(call)
        session.flush()
        for number in range(1, rng.randint(1, 3) + 1):
            outcome = rng.choice(OUTCOMES)
            placed = NOW - timedelta(days=rng.uniform(0, 40))
            duration = rng.randint(5, 400) if outcome == "completed" and rng.random() < 0.9 else None
            cost = round(rng.uniform(0.01, 0.3), 4) if rng.random() < 0.6 else None
            attempt = CampaignCallAttempt(
                campaign_call_id=call.id, campaign_id=call.campaign_id, number=number,
                idempotency_key=f"k-{call.id}-{number}", provider="twilio", status="ended" if outcome else "ringing",
                provider_call_id=f"CA{call.id:06d}{number}", outcome=outcome, duration_seconds=duration,
                placed_at=placed, cost=cost, cost_unit="USD" if cost is not None else None)
            session.add(attempt)
            made.append({"attempt": attempt, "zone": customer.timezone or "UTC", "campaign_id": call.campaign_id,
                         "call_id": call.id})
            if outcome == "completed":
                goal = rng.random() < 0.5
                evaluation = {"greeting": {"result": rng.choice(["success", "failure", "unknown"]), "rationale": "r"}}
                conversation = Conversation(external_id=f"conv-{call.id}-{number}", campaign_call_id=call.id,
                                            goal_reached=goal, cost=rng.choice([None, 100, 250]),
                                            evaluation=evaluation,
                                            evaluation_failed=evaluation["greeting"]["result"] == "failure",
                                            handed_off_at=placed if rng.random() < 0.2 else None,
                                            started_at=placed, created_at=placed + timedelta(minutes=2))
                session.add(conversation)
                session.flush()
                session.add(ConversationEvaluation(conversation_id=conversation.id, criterion="greeting",
                                                   result=evaluation["greeting"]["result"], rationale="r",
                                                   occurred_at=placed))
                made[-1]["conversation"] = conversation
                break
    # an attempt the provider never took: not dialled
    session.add(CampaignCallAttempt(campaign_call_id=made[0]["call_id"], campaign_id=made[0]["campaign_id"], number=9,
                                    idempotency_key="never", provider="twilio", status="not_placed", outcome="failed"))
    session.commit()
    return first, second, made


def _expected(made, *, campaign_id=None, start=None, end=None):
    rows = [m for m in made if (campaign_id is None or m["campaign_id"] == campaign_id)
            and (start is None or m["attempt"].placed_at >= start) and (end is None or m["attempt"].placed_at < end)]
    outcomes = Counter(m["attempt"].outcome for m in rows)
    goal_calls = {m["call_id"] for m in made if m.get("conversation") is not None and m["conversation"].goal_reached}
    counts = {"dialled": len(rows), "answered": outcomes["completed"], "voicemail": outcomes["voicemail"],
              "voicemail_left": outcomes["voicemail_left"], "no_answer": outcomes["no_answer"],
              "busy": outcomes["busy"], "failed": outcomes["failed"], "in_progress": outcomes[None],
              "goal_reached": sum(1 for m in rows if m["attempt"].outcome == "completed" and m["call_id"] in goal_calls)}
    heat = Counter()
    answered = Counter()
    for m in rows:
        local = m["attempt"].placed_at.astimezone(ZoneInfo(m["zone"]))
        heat[(local.weekday(), local.hour)] += 1
        answered[(local.weekday(), local.hour)] += m["attempt"].outcome == "completed"
    durations = sorted(m["attempt"].duration_seconds for m in rows
                       if m["attempt"].outcome == "completed" and m["attempt"].duration_seconds is not None)

    def rank(p):
        return durations[max(1, math.ceil(p * len(durations))) - 1] if durations else None

    costs = [m["attempt"].cost for m in rows if m["attempt"].cost is not None]
    return counts, heat, answered, (len(durations), rank(0.5), rank(0.9), sum(durations)), costs


@pytest.mark.parametrize("which", ["first", "second", "all"])
def test_campaign_figures_match_independent_counts(session, which):
    first, second, made = _seed(session)
    if which == "all":
        start, end = NOW - timedelta(days=30), NOW
        report = service.report(session=session, scope=service.Scope(start=start, end=end))
        counts, heat, answered, talk, costs = _expected(made, start=start, end=end)
    else:
        campaign = first if which == "first" else second
        report = service.campaign_report(session=session, campaign_id=campaign.id)
        counts, heat, answered, talk, costs = _expected(made, campaign_id=campaign.id)
    assert report["counts"] == counts
    assert counts["dialled"] > 20 and counts["answered"] > 3  # the seed made enough to mean something
    cells = {(service.WEEKDAYS.index(c["weekday"]), c["hour"]): c for c in report["heatmap"]}
    assert len(cells) == 7 * 24
    assert {k: v["dialled"] for k, v in cells.items() if v["dialled"]} == dict(heat)
    assert {k: v["answered"] for k, v in cells.items() if v["answered"]} == {k: v for k, v in answered.items() if v}
    tt = report["talk_time"]
    assert (tt["calls"], tt["median_seconds"], tt["p90_seconds"], tt["total_seconds"]) == talk
    telephony = report["cost"]["telephony"]
    assert len(telephony) == 1 and telephony[0]["unit"] == "USD" and telephony[0]["calls"] == len(costs)
    assert telephony[0]["total"] == pytest.approx(sum(costs), abs=1e-4)
    assert telephony[0]["per_goal"] == pytest.approx(sum(costs) / counts["goal_reached"], abs=1e-4)


def test_conversation_and_evaluation_figures(session):
    first, _second, made = _seed(session)
    report = service.campaign_report(session=session, campaign_id=first.id)
    conversations = [m["conversation"] for m in made if m["campaign_id"] == first.id and m.get("conversation")]
    assert report["conversations"] == {
        "total": len(conversations), "goal_reached": sum(c.goal_reached for c in conversations),
        "handed_off": sum(c.handed_off_at is not None for c in conversations),
        "evaluation_failed": sum(c.evaluation_failed for c in conversations)}
    results = Counter(c.evaluation["greeting"]["result"] for c in conversations)
    assert report["evaluations"]["criteria"] == [{"criterion": "greeting", "success": results["success"],
                                                  "failure": results["failure"], "unknown": results["unknown"]}]
    by_day = Counter()
    for c in conversations:
        by_day[(c.started_at.date().isoformat(), c.evaluation["greeting"]["result"])] += 1
    got = Counter()
    for row in report["evaluations"]["by_day"]:
        for result in ("success", "failure", "unknown"):
            if row[result]:
                got[(row["day"], result)] += row[result]
    assert got == by_day
    credits = [c.cost for c in conversations if c.cost is not None]
    agent = report["cost"]["agent"]
    assert agent["calls"] == len(credits) and agent["total"] == sum(credits)


def test_heatmap_uses_the_customers_zone_across_dst(session):
    customer = Customer(name="NY", phone="+12125550001", timezone="America/New_York")
    session.add(customer)
    campaign = Campaign(name="DST")
    session.add(campaign)
    session.flush()
    call = CampaignCall(campaign_id=campaign.id, customer_id=customer.id)
    session.add(call)
    session.flush()
    # 14:00 UTC is 10:00 in New York in summer (EDT) and 09:00 in winter (EST)
    for number, placed in enumerate([datetime(2026, 7, 1, 14, tzinfo=timezone.utc),
                                     datetime(2026, 12, 2, 14, tzinfo=timezone.utc)], start=1):
        session.add(CampaignCallAttempt(campaign_call_id=call.id, campaign_id=campaign.id, number=number,
                                        idempotency_key=f"dst{number}", provider="twilio", status="ended",
                                        outcome="completed", placed_at=placed))
    session.commit()
    cells = {(c["weekday"], c["hour"]): c for c in service.campaign_report(
        session=session, campaign_id=campaign.id)["heatmap"] if c["dialled"]}
    assert set(cells) == {("wed", 10), ("wed", 9)}
    assert all(c["answer_rate"] == 1.0 for c in cells.values())


def test_period_and_errors(session, set_env):
    set_env(BUSINESS_TIMEZONE="Europe/Berlin")
    start, end = service.period("2026-03-29", "2026-03-29")  # the day Berlin springs forward: 23 hours
    assert start == datetime(2026, 3, 28, 23, tzinfo=timezone.utc)
    assert end - start == timedelta(hours=23)
    start, end = service.period(None, None, now=NOW)
    assert (start, end) == (NOW - timedelta(days=30), NOW)
    with pytest.raises(ValidationFailed):
        service.period("yesterday", None)
    with pytest.raises(ValidationFailed):
        service.period("2026-03-29", "2026-03-01")
    with pytest.raises(NotFound):
        service.campaign_report(session=session, campaign_id=424242)


def test_empty_database_gives_zeros(session):
    report = service.calls_report(session=session)
    assert report["counts"]["dialled"] == 0 and report["rates"]["answer_rate"] is None
    assert report["talk_time"]["median_seconds"] is None and report["cost"]["telephony"] == []
