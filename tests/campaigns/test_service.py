"""Campaign rules (SQLite and PostgreSQL): drafts, the audience snapshot, retries and windows,
pause/resume/cancel, "Call now", and the dispatcher's claims, idempotency, pacing and concurrency."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from navaia_app.campaigns import service
from navaia_app.outreach import calls as pipeline
from navaia_app.outreach import dispatcher, pacing
from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt, CampaignIn, CampaignPatch
from navaia_app.core.call_tokens import read_call_token
from navaia_app.core.db import engine_for, session_scope
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.customers.models import Customer
from navaia_app.telephony import CallRequest, ErrorKind, get_provider

from .conftest import ALL_DAYS


def _campaign(**fields) -> int:
    fields.setdefault("name", "Spring check-in")
    fields.setdefault("calling_window_start", "00:00")
    fields.setdefault("calling_window_end", "00:00")
    fields.setdefault("calling_days", ALL_DAYS)
    with session_scope() as session:
        return service.create_campaign(session=session, campaign_in=CampaignIn(**fields)).id


def _start(campaign_id: int, now: datetime | None = None) -> Campaign:
    with session_scope() as session:
        return service.start_campaign(session=session, campaign_id=campaign_id, now=now)


def _calls(campaign_id: int) -> list[CampaignCall]:
    with session_scope() as session:
        return list(session.exec(select(CampaignCall).where(CampaignCall.campaign_id == campaign_id)
                                 .order_by(CampaignCall.customer_id)))


def _counts(campaign_id: int) -> dict[str, int]:
    with session_scope() as session:
        counts = service.call_counts(session=session, campaign_ids=[campaign_id])[campaign_id]
    return {k: v for k, v in counts.items() if v}


def _run_until_done(campaign_id: int, *, timeout: float = 60, slice_seconds: float = 2) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dispatcher.run(slice_seconds=slice_seconds, take_queued=True)
        with session_scope() as session:
            if session.get(Campaign, campaign_id).status == "completed":
                return
        time.sleep(0.05)
    raise AssertionError(f"campaign not completed: {_counts(campaign_id)}")


# --- drafts ------------------------------------------------------------------------------------


def test_create_validates_every_field(campaign_env):
    with session_scope() as session, pytest.raises(ValidationFailed) as caught:
        service.create_campaign(session=session, campaign_in=CampaignIn(
            name=" ", calls_per_second=0, max_concurrent_calls=0, max_attempts=99, calling_window_start="25:00",
            calling_days=["someday"], retry_on=["completed"], variables={"customer_id": "x", "bad name": 1}))
    assert set(caught.value.errors) >= {"name", "calls_per_second", "max_concurrent_calls", "max_attempts",
                                         "calling_window_start", "calling_days", "retry_on", "variables"}


def test_only_drafts_are_edited_or_deleted_and_duplicates_are_drafts(campaign_env, make_customers):
    make_customers(2)
    cid = _campaign(purpose="Remind about the annual check", variables={"clinic": "Downtown"})
    with session_scope() as session:
        updated = service.update_campaign(session=session, campaign_id=cid, patch=CampaignPatch(
            name="Annual check", calls_per_second=2.5, calling_days=["mon", "wed"]))
        assert (updated.name, updated.calls_per_second, updated.calling_days) == ("Annual check", 2.5, "mon,wed")
    _start(cid)
    with session_scope() as session:
        with pytest.raises(Conflict):
            service.update_campaign(session=session, campaign_id=cid, patch=CampaignPatch(name="Nope"))
        with pytest.raises(Conflict):
            service.delete_campaign(session=session, campaign_id=cid)
        copy = service.duplicate_campaign(session=session, campaign_id=cid)
        assert (copy.status, copy.name, copy.variables) == ("draft", "Copy of Annual check", {"clinic": "Downtown"})
        service.delete_campaign(session=session, campaign_id=copy.id)
        with pytest.raises(NotFound):
            service.get_campaign(session=session, campaign_id=copy.id)


# --- the audience snapshot -----------------------------------------------------------------------


def test_snapshot_of_everyone_excludes_do_not_call_and_invalid_numbers(campaign_env, make_customers, session):
    ids = make_customers(5, dnc={1})
    session.execute(sa.update(Customer).where(Customer.id == ids[2]).values(phone="+999123"))  # became invalid
    session.commit()
    cid = _campaign()
    campaign = _start(cid)
    assert campaign.status == "running"
    assert campaign.snapshot["included"] == 3
    assert campaign.snapshot["excluded"] == {"do_not_call": 1, "invalid_number": 1}
    calls = _calls(cid)
    assert [c.customer_id for c in calls] == ids  # one row per customer
    assert {c.customer_id: c.skip_reason for c in calls if c.status == "skipped"} == {
        ids[1]: "do not call", ids[2]: "invalid number"}
    with session_scope() as s, pytest.raises(Conflict):
        service.start_campaign(session=s, campaign_id=cid)  # snapshots once


def test_snapshot_of_filters_and_hand_picked_customers(campaign_env, make_customers):
    ny = make_customers(3, timezone="America/New_York")
    paris = make_customers(2, timezone="Europe/Paris", prefix="+3319900")
    cid = _campaign(audience={"type": "filters", "timezone": "Europe/Paris"})
    assert [c.customer_id for c in _calls(cid) or []] == []
    _start(cid)
    assert sorted(c.customer_id for c in _calls(cid)) == paris
    picked = _campaign(customer_ids=[ny[0], ny[2], 999_999])
    campaign = _start(picked)
    assert sorted(c.customer_id for c in _calls(picked)) == [ny[0], ny[2]]
    assert campaign.snapshot["excluded"] == {"not_found": 1}


def test_csv_audience_extra_columns_become_call_variables(campaign_env, make_customers):
    (known,) = make_customers(1)
    with session_scope() as session:
        known_phone = session.get(Customer, known).phone
    content = ("phone,name,appointment,doctor\n"
               f"{known_phone},Whoever,2026-12-01 10:00,Dr Who\n"
               "+1 415 555 0199,New Person,2026-12-02 11:30,Dr No\n"
               "not a phone,Bad,x,y\n"
               "+14155550100,,2026-12-03 09:00,Dr Strange\n")
    cid = _campaign(variables={"clinic": "Downtown"})
    with session_scope() as session:
        campaign = service.set_csv_audience(session=session, campaign_id=cid, content=content, file_name="list.csv")
        assert campaign.audience["columns"] == ["appointment", "doctor"]
        assert len(campaign.audience["rows"]) == 3 and len(campaign.audience["problems"]) == 1
    campaign = _start(cid)
    assert campaign.snapshot["excluded"] == {"not_found": 1}  # no customer, no name to create one with
    assert campaign.snapshot["created_customers"] == 1
    calls = {c.customer_id: c for c in _calls(cid)}
    assert calls[known].variables == {"appointment": "2026-12-01 10:00", "doctor": "Dr Who"}
    with session_scope() as session:
        created = session.exec(select(Customer).where(Customer.phone == "+14155550199")).one()
        call = session.get(CampaignCall, calls[created.id].id)
        variables = pipeline.call_variables(session=session, call=call, customer=created)
    token = variables.pop("call_token")
    assert variables == {"clinic": "Downtown", "appointment": "2026-12-02 11:30", "doctor": "Dr No",
                         "customer_id": str(created.id), "campaign_id": str(cid),
                         "campaign_call_id": str(call.id), "customer_name": "New Person"}
    assert read_call_token(token) == {"customer_id": created.id, "call_id": call.id, "purpose": "campaign"}


def test_snapshot_waits_for_each_customers_window(campaign_env, make_customers):
    ny = make_customers(1, timezone="America/New_York")
    tokyo = make_customers(1, timezone="Asia/Tokyo", prefix="+8135550")
    cid = _campaign(calling_window_start="09:00", calling_window_end="17:00", calling_days=["mon", "tue", "wed",
                                                                                            "thu", "fri"])
    now = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)  # Wed: 10:00 in New York, 23:00 in Tokyo
    _start(cid, now=now)
    due = {c.customer_id: c.next_attempt_at for c in _calls(cid)}
    assert due[ny[0]] == now
    assert due[tokyo[0]] == datetime(2026, 6, 11, 0, 0, tzinfo=UTC)  # Thursday 09:00 in Tokyo


def test_scheduled_start_waits_for_start_at(campaign_env, make_customers):
    make_customers(2)
    start_at = datetime.now(UTC) + timedelta(hours=2)
    cid = _campaign(start_at=start_at)
    assert _start(cid).status == "scheduled"
    assert all(c.next_attempt_at >= start_at for c in _calls(cid))
    with session_scope() as session:
        assert service.start_due_scheduled(session=session, now=start_at - timedelta(minutes=1)) == []
        assert service.start_due_scheduled(session=session, now=start_at) == [cid]


# --- outcomes and retries ------------------------------------------------------------------------


def _placed(campaign_id: int, customer_index: int = 0, now: datetime | None = None) -> CampaignCall:
    """Claim one call and pretend a provider placed it (an attempt with a call id)."""
    now = now or datetime.now(UTC)
    with session_scope() as session:
        call = session.exec(select(CampaignCall).where(CampaignCall.campaign_id == campaign_id,
                                                       CampaignCall.status == "pending")
                            .order_by(CampaignCall.customer_id).offset(customer_index)).first()
        session.execute(sa.update(CampaignCall).where(CampaignCall.id == call.id).values(status="queued"))
        claim = dispatcher.prepare_attempt(session, call.id, now, "simulated")
        dispatcher.store_placed(session, claim, f"SIMtest{call.id}-{claim.key}", None, now)
        return session.get(CampaignCall, call.id)


def test_retry_follows_the_policy_and_the_window(campaign_env, make_customers):
    make_customers(1, timezone="America/New_York")
    cid = _campaign(max_attempts=2, retry_spacing_minutes=30, retry_on=["busy", "no_answer"])
    _start(cid)
    call = _placed(cid)
    with session_scope() as session:
        pipeline.record_call_outcome(session=session, outcome="busy", provider_call_id=call.provider_call_id)
        again = pipeline.record_call_outcome(session=session, outcome="busy", provider_call_id=call.provider_call_id)
        assert again.status == "pending" and again.attempts == 1 and again.last_outcome == "busy"
        assert again.next_attempt_at >= datetime.now(UTC) + timedelta(minutes=29)
    call = _placed(cid)
    with session_scope() as session:
        final = pipeline.record_call_outcome(session=session, outcome="no_answer",
                                            provider_call_id=call.provider_call_id)
        assert (final.status, final.attempts, final.next_attempt_at) == ("no_answer", 2, None)
        assert session.get(Campaign, cid).status == "completed"  # nothing left: it completes by itself
        attempts = session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.campaign_call_id == call.id)
                                .order_by(CampaignCallAttempt.number)).all()
        assert [(a.number, a.outcome) for a in attempts] == [(1, "busy"), (2, "no_answer")]


def test_a_retry_outside_the_window_waits_for_the_next_one(campaign_env, make_customers, monkeypatch):
    make_customers(1, timezone="Europe/London", prefix="+44207946")
    cid = _campaign(calling_window_start="09:00", calling_window_end="17:00",
                    calling_days=["mon", "tue", "wed", "thu", "fri"], retry_spacing_minutes=60)
    campaign = _start(cid, now=datetime(2026, 6, 12, 13, 0, tzinfo=UTC))
    assert campaign.status == "running"
    call = _placed(cid, now=datetime(2026, 6, 12, 14, 0, tzinfo=UTC))
    friday_late = datetime(2026, 6, 12, 15, 30, tzinfo=UTC)  # Fri 16:30 BST: +60 min is after 17:00
    monkeypatch.setattr(pipeline, "utcnow", lambda: friday_late)
    with session_scope() as session:
        retried = pipeline.record_call_outcome(session=session, outcome="no_answer",
                                              provider_call_id=call.provider_call_id)
    assert retried.status == "pending"
    assert retried.next_attempt_at == datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # Monday 09:00 BST


def test_completed_and_unretryable_outcomes_are_final(campaign_env, make_customers):
    make_customers(3)
    cid = _campaign(max_attempts=3)
    _start(cid)
    first, second = _placed(cid, 0), _placed(cid, 1)
    with session_scope() as session:
        done = pipeline.record_call_outcome(session=session, outcome="completed",
                                           provider_call_id=first.provider_call_id, duration_seconds=42)
        assert (done.status, done.duration_seconds) == ("completed", 42)
        # the post-call webhook links the conversation later: details are added, nothing else changes
        linked = pipeline.record_call_outcome(session=session, outcome="completed", campaign_call_id=first.id,
                                             duration_seconds=43)
        assert (linked.status, linked.attempts, linked.duration_seconds) == ("completed", 1, 43)
        # the error's kind decides (never the words of its detail): a rejected number is not retried
        bad = pipeline.record_call_outcome(session=session, outcome="failed", provider_call_id=second.provider_call_id,
                                           detail="invalid number (Twilio 21211: not a valid phone number)",
                                           error_kind=ErrorKind.REJECTED)
        assert (bad.status, bad.last_detail[:14]) == ("failed", "invalid number")
        assert pipeline.record_call_outcome(session=session, outcome="completed", provider_call_id="CAunknown") is None
        with pytest.raises(ValidationFailed):
            pipeline.record_call_outcome(session=session, outcome="exploded", campaign_call_id=first.id)


# --- pause, resume, cancel, call now ---------------------------------------------------------------


def test_pause_resume_and_cancel(campaign_env, make_customers):
    make_customers(4)
    cid = _campaign()
    _start(cid)
    ringing = _placed(cid)
    with session_scope() as session:
        assert service.pause_campaign(session=session, campaign_id=cid).status == "paused"
        assert service.resume_campaign(session=session, campaign_id=cid).status == "running"
        cancelled = service.cancel_campaign(session=session, campaign_id=cid)
        assert cancelled.status == "cancelled"
        with pytest.raises(Conflict):
            service.resume_campaign(session=session, campaign_id=cid)
    counts = _counts(cid)
    assert counts == {"ringing": 1, "cancelled": 3}  # the ringing call finishes
    with session_scope() as session:
        ended = pipeline.record_call_outcome(session=session, outcome="busy", provider_call_id=ringing.provider_call_id)
        assert ended.status == "busy"  # no retry once cancelled


def test_pause_resume_and_cancel_record_who_did_it(campaign_env, make_customers, make_user):
    """The actor each of them takes ends up in the audit log (it used to be dropped)."""
    from navaia_app.audit.models import AuditEntry

    agent = make_user(email="pauser@example.com", role="agent")
    make_customers(2)
    cid = _campaign()
    _start(cid)
    with session_scope() as session:
        service.pause_campaign(session=session, campaign_id=cid, actor=agent, reason="lunch")
        service.resume_campaign(session=session, campaign_id=cid, actor=agent)
        service.cancel_campaign(session=session, campaign_id=cid, actor=agent)
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.target_type == "campaign",
                                                        AuditEntry.target_id == str(cid))
                               .order_by(AuditEntry.id)).all()
        recorded = [(e.action, e.actor_id, e.actor_email) for e in entries if e.action != "campaign.started"]
    assert recorded == [(f"campaign.{what}", agent.id, "pauser@example.com")
                        for what in ("paused", "resumed", "cancelled")]


def test_call_now_refuses_do_not_call_and_double_calls(campaign_env, make_customers):
    ok, dnc = make_customers(2, dnc={1})
    with session_scope() as session:
        call = pipeline.call_customer_now(session=session, customer_id=ok)
        assert (call.campaign_id, call.status) == (None, "pending")
        with pytest.raises(Conflict):
            pipeline.call_customer_now(session=session, customer_id=ok)
        with pytest.raises(Conflict):
            pipeline.call_customer_now(session=session, customer_id=dnc)
        with pytest.raises(NotFound):
            pipeline.call_customer_now(session=session, customer_id=123456)
    dispatcher.run(slice_seconds=3, take_queued=True)
    with session_scope() as session:
        call = session.get(CampaignCall, call.id)
        assert call.attempts == 1 and call.provider_call_id.startswith("SIM")


# --- the dispatcher: claims, idempotency, pacing, concurrency ------------------------------------


def test_a_claim_is_won_once(campaign_env, make_customers, database_url):
    make_customers(1)
    cid = _campaign()
    _start(cid)
    (call,) = _calls(cid)
    now = datetime.now(UTC)
    engine = engine_for(database_url)
    with Session(engine) as first:
        assert dispatcher.claim_next(first, cid, now, deque([call.id])) == call.id
        first.commit()
    with Session(engine) as second:
        assert dispatcher.claim_next(second, cid, now, deque([call.id])) is None


def test_the_same_attempt_never_rings_twice(campaign_env, make_customers):
    """A retried job re-uses the attempt's idempotency key; a crash between asking the provider and
    writing down its answer is resolved by asking the provider what that key placed."""
    make_customers(1)
    cid = _campaign(max_attempts=1)
    _start(cid)
    (call,) = _calls(cid)
    now = datetime.now(UTC)
    with session_scope() as session:
        assert dispatcher.claim_next(session, cid, now, deque([call.id])) == call.id
        claim = dispatcher.prepare_attempt(session, call.id, now, "simulated")
    provider = get_provider("simulated")
    request = CallRequest(idempotency_key=claim.key, to=claim.to, campaign_call_id=call.id,
                          customer_id=claim.customer_id, campaign_id=cid, customer_name=claim.customer_name)
    assert provider.place_call(request) == provider.place_call(request)  # the same key is the same call
    # ...the dispatcher "dies" here, before storing the call id; the next slice recovers it.
    with session_scope() as session:
        assert dispatcher.recover_orphans(session, datetime.now(UTC)) == 1
    _run_until_done(cid)
    with session_scope() as session:
        attempts = session.exec(select(CampaignCallAttempt)).all()
        assert len(attempts) == 1 and attempts[0].provider_call_id == provider.place_call(request).provider_call_id
        assert session.get(CampaignCall, call.id).attempts == 1


def test_pacing_and_concurrency_limits(campaign_env, make_customers, set_env):
    set_env(SIMULATED_TIME_SCALE="0.02")
    make_customers(40)
    cid = _campaign(calls_per_second=20, max_concurrent_calls=6, max_attempts=1)
    _start(cid)
    _run_until_done(cid, timeout=90)
    with session_scope() as session:
        attempts = session.exec(select(CampaignCallAttempt).order_by(CampaignCallAttempt.created_at)).all()
    assert len(attempts) == 40 and len({a.campaign_call_id for a in attempts}) == 40
    # pacing is the dispatcher's decision to dial (the attempt's creation); placed_at comes after the
    # provider's round trip and carries its jitter
    placed = [a.created_at for a in attempts]
    # 20 a second on average, and never more than a second's catch-up beyond that in any second
    rate = (len(placed) - 1) / (placed[-1] - placed[0]).total_seconds()
    assert rate <= 20 * 1.05, rate
    for i in range(len(placed)):
        in_a_second = sum(1 for t in placed[i:] if (t - placed[i]).total_seconds() < 1.0)
        assert in_a_second <= 20 * (1 + pacing.BURST_SECONDS) + 1
    # never more than 6 calls at once
    events = sorted([(a.placed_at, 1) for a in attempts] + [(a.ended_at, -1) for a in attempts])
    live, peak = 0, 0
    for _, step in events:
        live += step
        peak = max(peak, live)
    assert peak <= 6


def test_the_provider_limit_caps_every_campaign(campaign_env, make_customers, set_env):
    set_env(SIMULATED_CALLS_PER_SECOND="5", SIMULATED_TIME_SCALE="0.005")
    make_customers(16)
    cid = _campaign(calls_per_second=50, max_concurrent_calls=50, max_attempts=1)
    _start(cid)
    _run_until_done(cid, timeout=60)
    with session_scope() as session:
        placed = sorted(session.exec(select(CampaignCallAttempt.created_at)).all())
    rate = (len(placed) - 1) / (placed[-1] - placed[0]).total_seconds()
    assert rate <= 5 * 1.05, rate


def test_do_not_call_set_mid_campaign_is_respected(campaign_env, make_customers, session):
    ids = make_customers(3)
    cid = _campaign(max_attempts=1)
    _start(cid)
    session.execute(sa.update(Customer).where(Customer.id == ids[1]).values(do_not_call=True))
    session.commit()
    _run_until_done(cid)
    calls = {c.customer_id: c for c in _calls(cid)}
    assert (calls[ids[1]].status, calls[ids[1]].skip_reason, calls[ids[1]].attempts) == ("skipped", "do not call", 0)
    with session_scope() as s:
        assert s.exec(select(func.count()).select_from(CampaignCallAttempt)).one() == 2
