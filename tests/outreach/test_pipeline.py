"""The pipeline on both databases: late reports are refused without an error, voicemail_left is an
outcome, `request_call` serves a non-campaign purpose with its own key, variables, token and outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from navaia_app.core.call_tokens import read_call_token
from navaia_app.core.db import session_scope
from navaia_app.core.errors import NotFound, ValidationFailed
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer
from navaia_app.outreach import calls, dispatcher, purposes
from navaia_app.outreach.calls import NotEligible, OutboundRequest
from navaia_app.outreach.models import CampaignCall, CampaignCallAttempt


class RecordingPolicy(purposes.CallPolicy):
    """A purpose like the coming reminders: its own variables and claims, and it hears the outcome."""

    purpose = "test_reminder"

    def __init__(self):
        self.finished: list[tuple[int, str]] = []

    def variables(self, session, call):
        return {"booking_service": "Check-up"}

    def on_final(self, session, call, now, *, batched):
        self.finished.append((call.id, call.status))


@pytest.fixture
def recording_policy():
    policy = RecordingPolicy()
    purposes.register_purpose(policy)
    yield policy
    purposes._POLICIES.pop(policy.purpose, None)


def _run_until(call_id: int, statuses: tuple[str, ...], timeout: float = 30) -> CampaignCall:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dispatcher.run(slice_seconds=1, take_queued=True)
        with session_scope() as session:
            call = session.get(CampaignCall, call_id)
            if call.status in statuses:
                return call
        time.sleep(0.05)
    raise AssertionError(f"call {call_id} never reached {statuses}")


def test_a_purpose_gets_its_own_idempotent_call_token_and_outcome(campaign_env, make_customers, set_env,
                                                                  recording_policy):
    set_env(SIMULATED_OUTCOMES="completed:1")
    (customer_id,) = make_customers(1)
    request = OutboundRequest(customer_id=customer_id, purpose="test_reminder", request_key="reminder:7:call",
                              reference="booking:7", variables={"slot": "Tue 10:00", "customer_id": "999"},
                              claims={"booking_id": 7})
    with session_scope() as session:
        call = calls.request_call(session=session, request=request)
        again = calls.request_call(session=session, request=request)
        assert again.id == call.id  # the same key is the same call, never a second one
        assert (call.purpose, call.reference, call.status) == ("test_reminder", "booking:7", "pending")
        customer = session.get(Customer, customer_id)
        variables = calls.call_variables(session=session, call=call, customer=customer)
    assert variables["booking_service"] == "Check-up" and variables["slot"] == "Tue 10:00"
    assert variables["customer_id"] == str(customer_id)  # Navaia's own variables cannot be overridden
    assert read_call_token(variables["call_token"]) == {"booking_id": 7, "customer_id": customer_id,
                                                        "call_id": call.id, "purpose": "test_reminder"}
    done = _run_until(call.id, ("completed",))
    assert done.attempts == 1 and done.provider_call_id.startswith("SIM")
    assert recording_policy.finished == [(call.id, "completed")]
    with session_scope() as session:
        assert len(session.exec(select(CampaignCall).where(CampaignCall.request_key == "reminder:7:call")).all()) == 1


def test_request_call_refuses_what_it_cannot_do(campaign_env, make_customers):
    ok, dnc = make_customers(2, dnc={1})
    with session_scope() as session:
        with pytest.raises(NotEligible) as refused:
            calls.request_call(session=session, request=OutboundRequest(customer_id=dnc, purpose="test_reminder"))
        assert refused.value.eligibility.code == "do_not_call"
        with pytest.raises(NotFound):
            calls.request_call(session=session, request=OutboundRequest(customer_id=424242, purpose="x"))
        with pytest.raises(ValidationFailed):
            calls.request_call(session=session, request=OutboundRequest(customer_id=ok, purpose="campaign"))
        assert session.exec(select(CampaignCall)).all() == []


def test_late_and_illegal_reports_change_nothing_and_never_raise(campaign_env, make_customers):
    (customer_id,) = make_customers(1)
    with session_scope() as session:
        call_id = calls.call_customer_now(session=session, customer_id=customer_id).id
    with session_scope() as session:
        call = session.get(CampaignCall, call_id)
        call.status = "queued"
        claim = dispatcher.prepare_attempt(session, call.id, utcnow(), "simulated")
        dispatcher.store_placed(session, claim, "SIMlate1", None, utcnow())
    with session_scope() as session:
        ended = calls.record_call_outcome(session=session, outcome="voicemail_left", provider_call_id="SIMlate1",
                                          detail="message left after the beep")
        assert (ended.status, ended.last_outcome) == ("voicemail_left", "voicemail_left")
    with session_scope() as session:  # a late "ringing" and a repeated final: refused quietly
        assert calls.report_call_update(session=session, provider_call_id="SIMlate1", status="ringing").status == \
            "voicemail_left"
        assert calls.record_call_outcome(session=session, outcome="queued", campaign_call_id=call_id).status == \
            "voicemail_left"
        attempt = session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.campaign_call_id == call_id)).one()
        assert (attempt.status, attempt.outcome) == ("ended", "voicemail_left")


def test_a_call_waits_for_its_purposes_window(campaign_env, make_customers, recording_policy):
    class Closed:  # a window that opens in an hour
        def next_opening(self, instant, zone):
            return instant + timedelta(hours=1)

    recording_policy.window = lambda session, call: Closed()
    (customer_id,) = make_customers(1)
    with session_scope() as session:
        call_id = calls.request_call(session=session, request=OutboundRequest(
            customer_id=customer_id, purpose="test_reminder")).id
    dispatcher.run(slice_seconds=0.5, take_queued=True)
    with session_scope() as session:
        call = session.get(CampaignCall, call_id)
        assert call.status == "pending" and call.tries == 0
        assert call.next_attempt_at > utcnow() + timedelta(minutes=50)
    assert isinstance(call.next_attempt_at, datetime)
