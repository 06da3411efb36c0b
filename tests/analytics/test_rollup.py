"""The daily rollup: the figures read from it (and the live part around it) are the figures read live, and
stay exact when something that counts in a rolled-up day changes later (both databases)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, func, select

from navaia_app.analytics import rollup, service
from navaia_app.analytics.models import AnalyticsDay, AnalyticsOutcome, AnalyticsSlot, AnalyticsTalk
from navaia_app.campaigns.models import CampaignCall, CampaignCallAttempt
from navaia_app.customers import service as customers_service
from navaia_app.outreach import calls
from tests.analytics.test_service import NOW, _expected, _seed


def _factory(session):
    @contextmanager
    def make():
        with Session(session.get_bind(), expire_on_commit=False) as other:
            yield other
            other.commit()
    return make


def _scopes(first, second):
    # a period whose edges cut days in two (read live), and whole-campaign scopes (no bounds)
    start, end = NOW - timedelta(days=30, hours=5, minutes=17), NOW - timedelta(hours=3)
    return {"all": service.Scope(start=start, end=end), "first": service.Scope(campaign_id=first.id),
            "second": service.Scope(campaign_id=second.id, start=start, end=end)}


def _reports(session, scopes):
    session.expire_all()
    return {name: service.report(session=session, scope=scope) for name, scope in scopes.items()}


def _check_against_independent_counts(session, made, scopes):
    for name, scope in scopes.items():
        counts, heat, answered, talk, costs = _expected(made, campaign_id=scope.campaign_id, start=scope.start,
                                                        end=scope.end)
        report = service.report(session=session, scope=scope)
        assert report["counts"] == counts, name
        cells = {(service.WEEKDAYS.index(c["weekday"]), c["hour"]): c for c in report["heatmap"]}
        assert {k: v["dialled"] for k, v in cells.items() if v["dialled"]} == dict(heat), name
        assert {k: v["answered"] for k, v in cells.items() if v["answered"]} == {
            k: v for k, v in answered.items() if v}, name
        tt = report["talk_time"]
        assert (tt["calls"], tt["median_seconds"], tt["p90_seconds"], tt["total_seconds"]) == talk, name
        telephony = report["cost"]["telephony"]
        assert telephony[0]["calls"] == len(costs), name
        assert telephony[0]["total"] == pytest.approx(sum(float(c) for c in costs), abs=1e-4), name


def test_rollup_and_live_agree_and_a_rerun_is_harmless(session):
    first, second, made = _seed(session)
    scopes = _scopes(first, second)
    live = _reports(session, scopes)
    built = rollup.build(session_factory=_factory(session))
    assert built >= 40  # every day from the first attempt to two days ago
    parts = rollup.split(session, scopes["all"])
    assert parts.runs and len(parts.live) == 2  # the two partial days at the edges are read live
    assert _reports(session, scopes) == live
    _check_against_independent_counts(session, made, scopes)

    rows = [session.exec(select(func.count()).select_from(t)).one()
            for t in (AnalyticsDay, AnalyticsOutcome, AnalyticsSlot, AnalyticsTalk)]
    assert rollup.build(session_factory=_factory(session)) == 0  # a re-run changes nothing
    assert [session.exec(select(func.count()).select_from(t)).one()
            for t in (AnalyticsDay, AnalyticsOutcome, AnalyticsSlot, AnalyticsTalk)] == rows
    assert _reports(session, scopes) == live


def test_part_rolled_up_part_live_agree(session):
    first, second, _made = _seed(session)
    scopes = _scopes(first, second)
    live = _reports(session, scopes)
    rollup.build(session_factory=_factory(session), max_days=12)  # the oldest 12 days only
    for day in (NOW - timedelta(days=36)).date(), (NOW - timedelta(days=38)).date():  # holes in the run
        rollup.invalidate(session, {day})
    session.commit()
    parts = rollup.split(session, service.Scope(campaign_id=first.id))
    assert len(parts.runs) >= 2 and len(parts.live) >= 3
    assert _reports(session, scopes) == live


def test_an_attempt_that_settles_late_stays_exact(session):
    first, second, made = _seed(session)
    scopes = _scopes(first, second)
    rollup.build(session_factory=_factory(session))
    # an attempt still under way on a rolled-up day: its outcome, talk time and price arrive later
    late = next(m for m in made if m["attempt"].outcome is None and m["attempt"].placed_at < NOW - timedelta(days=3)
                and m["campaign_id"] == first.id)
    attempt = late["attempt"]
    day = attempt.placed_at.date()
    assert session.get(AnalyticsDay, day) is not None
    calls.record_call_outcome(session=session, outcome="completed", provider_call_id=attempt.provider_call_id,
                              duration_seconds=321)
    calls.record_attempt_cost(session=session, provider_call_id=attempt.provider_call_id, amount=0.125, unit="USD")
    session.commit()
    session.refresh(attempt)
    assert attempt.outcome == "completed" and attempt.duration_seconds == 321
    assert session.get(AnalyticsDay, day) is None  # the day is read live again
    assert session.exec(select(func.count()).select_from(AnalyticsOutcome)
                        .where(AnalyticsOutcome.day == day)).one() == 0
    _check_against_independent_counts(session, made, scopes)
    live = _reports(session, scopes)

    assert rollup.build(session_factory=_factory(session)) == 1  # the next run builds that day again
    assert session.get(AnalyticsDay, day) is not None
    assert _reports(session, scopes) == live
    _check_against_independent_counts(session, made, scopes)


def test_a_late_goal_and_a_deleted_customer_stay_exact(session):
    first, second, made = _seed(session)
    scopes = _scopes(first, second)
    rollup.build(session_factory=_factory(session))
    answered = next(m for m in made if m.get("conversation") is not None and not m["conversation"].goal_reached
                    and m["attempt"].placed_at < NOW - timedelta(days=3))
    conversation = session.merge(answered["conversation"])
    conversation.goal_reached = True  # e.g. a booking made after the call, or the agent's verdict synced late
    session.commit()
    answered["conversation"].goal_reached = True
    assert session.get(AnalyticsDay, answered["attempt"].placed_at.date()) is None
    _check_against_independent_counts(session, made, scopes)
    rollup.build(session_factory=_factory(session))
    _check_against_independent_counts(session, made, scopes)

    # deleting a customer takes their calls and attempts with it (a cascade in the database)
    gone = next(m for m in made if m["campaign_id"] == first.id and m["attempt"].placed_at < NOW - timedelta(days=3))
    customer_id = session.get(CampaignCall, gone["call_id"]).customer_id
    customers_service.delete_customer(session=session, customer_id=customer_id)
    session.commit()
    assert session.get(AnalyticsDay, gone["attempt"].placed_at.date()) is None
    doomed = set(session.exec(select(CampaignCall.id).where(CampaignCall.customer_id == customer_id)).all())
    assert not doomed
    remaining = set(session.exec(select(CampaignCallAttempt.id)).all())
    made[:] = [m for m in made if m["attempt"].id in remaining]
    _check_against_independent_counts(session, made, scopes)
    rollup.build(session_factory=_factory(session))
    _check_against_independent_counts(session, made, scopes)


def test_todays_calls_are_never_rolled_up(session):
    first, second, _made = _seed(session)
    now = datetime.now(timezone.utc)
    rollup.build(session_factory=_factory(session))
    assert session.exec(select(func.max(AnalyticsDay.day))).one() == (now - timedelta(days=2)).date()


def test_the_local_slot_is_stamped_when_placed_at_is_written(session):
    first, _second, made = _seed(session)
    attempt = next(m["attempt"] for m in made if m["zone"] == "America/New_York")
    attempt.placed_at = datetime(2026, 7, 1, 14, tzinfo=timezone.utc)  # 10:00 EDT, a Wednesday
    session.commit()
    session.refresh(attempt)
    assert (attempt.local_weekday, attempt.local_hour) == (2, 10)
    attempt.placed_at = datetime(2026, 12, 6, 3, 30, tzinfo=timezone.utc)  # Saturday 22:30 EST
    session.commit()
    session.refresh(attempt)
    assert (attempt.local_weekday, attempt.local_hour) == (5, 22)
