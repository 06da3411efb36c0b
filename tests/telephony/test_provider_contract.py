"""Adding a provider is writing one class and registering it: a tiny provider, unknown to the rest of
the code, places calls through the real dispatcher; its declared capabilities are honoured (a real
polling provider never gets made-up conversations) and its typed error kinds decide retries."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from navaia_app.campaigns import service
from navaia_app.campaigns.models import Campaign, CampaignIn
from navaia_app.core.db import session_scope
from navaia_app.outreach import calls, dispatcher
from navaia_app.outreach.models import CampaignCall, CampaignCallAttempt
from navaia_app.telephony import (
    CallUpdate,
    ErrorKind,
    PlacedCall,
    PlacementError,
    Provider,
    Reporting,
    get_provider,
    register_provider,
    unregister_provider,
)
from tests.campaigns.conftest import ALL_DAYS, campaign_env, make_customers  # noqa: F401


class PollingCarrier:
    """A real (not simulated) carrier that reports by polling: every call is answered and ends at once."""

    name = "testpoll"
    instant = True
    reports = Reporting.POLLING
    can_find_calls = True
    synthesizes_conversations = False
    conversations_asked: list[str] = []
    error: PlacementError | None = None

    @property
    def max_calls_per_second(self) -> float:
        return 100.0

    def place_call(self, request) -> PlacedCall:
        if PollingCarrier.error is not None:
            raise PollingCarrier.error
        return PlacedCall(provider_call_id=f"TP{request.idempotency_key}")

    def hang_up(self, provider_call_id: str, *, answered: bool) -> None:
        return None

    def find_call(self, *, idempotency_key: str, to: str, since: datetime) -> PlacedCall | None:
        return None

    def next_event_at(self, provider_call_id: str, placed_at: datetime, status: str) -> datetime | None:
        return placed_at

    def poll_updates(self, attempts: list[Any], now: datetime) -> list[CallUpdate]:
        return [CallUpdate(a.provider_call_id, "completed", at=now, duration_seconds=30) for a in attempts]

    def synthesized_conversation(self, **call: Any) -> dict[str, Any] | None:
        PollingCarrier.conversations_asked.append(call["provider_call_id"])
        return None


@pytest.fixture
def test_carrier(campaign_env, set_env):
    PollingCarrier.conversations_asked, PollingCarrier.error = [], None
    register_provider(PollingCarrier.name, PollingCarrier)
    set_env(TELEPHONY_PROVIDER=PollingCarrier.name, ELEVENLABS_WEBHOOK_SECRET="whsec-test")
    yield PollingCarrier
    unregister_provider(PollingCarrier.name)


def _campaign(**fields) -> int:
    with session_scope() as session:
        cid = service.create_campaign(session=session, campaign_in=CampaignIn(
            name="Provider contract", calling_window_start="00:00", calling_window_end="00:00",
            calling_days=ALL_DAYS, **fields)).id
        service.start_campaign(session=session, campaign_id=cid)
    return cid


def _calls(cid: int) -> list[CampaignCall]:
    with session_scope() as session:
        return list(session.exec(select(CampaignCall).where(CampaignCall.campaign_id == cid)))


def test_a_registered_provider_places_and_is_polled_without_made_up_conversations(test_carrier, make_customers):
    assert isinstance(get_provider(), Provider)  # the contract, checked structurally
    make_customers(3)
    cid = _campaign()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dispatcher.run(slice_seconds=1, take_queued=True)
        with session_scope() as session:
            if session.get(Campaign, cid).status == "completed":
                break
    rows = _calls(cid)
    assert [(c.status, c.attempts, c.duration_seconds) for c in rows] == [("completed", 1, 30)] * 3
    assert all(c.provider_call_id.startswith("TP") for c in rows)
    assert test_carrier.conversations_asked == []  # it does not synthesize: never asked, nothing posted


def test_error_kinds_decide_retries_and_are_kept(test_carrier, make_customers):
    first, second, third = make_customers(3)
    test_carrier.error = PlacementError(ErrorKind.REJECTED, "the number is wrong in a way no words say")
    rejected = _campaign(customer_ids=[first], max_attempts=3, retry_on=["failed"])
    dispatcher.run(slice_seconds=0.5, take_queued=True)
    (call,) = _calls(rejected)
    assert (call.status, call.attempts) == ("failed", 1)  # not retried, whatever the retry policy says
    with session_scope() as session:
        attempt = session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.campaign_call_id == call.id)).one()
        assert (attempt.status, attempt.outcome, attempt.error_kind) == ("ended", "failed", "rejected")

    test_carrier.error = PlacementError(ErrorKind.FAILED, "invalid number, authentication failed")  # words mean nothing
    retried = _campaign(customer_ids=[second], max_attempts=3, retry_on=["failed"], retry_spacing_minutes=30)
    dispatcher.run(slice_seconds=0.5, take_queued=True)
    (call,) = _calls(retried)
    assert (call.status, call.attempts, call.last_outcome) == ("pending", 1, "failed")

    test_carrier.error = PlacementError(ErrorKind.RATE_LIMITED, "slow down", retry_after=60)
    limited = _campaign(customer_ids=[third])
    dispatcher.run(slice_seconds=0.5, take_queued=True)
    (call,) = _calls(limited)
    assert (call.status, call.attempts) == ("pending", 0)  # nothing rang: the attempt does not count
    with session_scope() as session:
        attempt = session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.campaign_call_id == call.id)).one()
        assert (attempt.status, attempt.error_kind) == ("not_placed", "rate_limited")
        assert session.get(CampaignCall, call.id).next_attempt_at > attempt.created_at + timedelta(seconds=50)


def test_auth_errors_pause_the_campaign_and_unknown_names_are_refused(test_carrier, make_customers):
    make_customers(2)
    test_carrier.error = PlacementError("auth", "credentials refused")
    cid = _campaign(max_attempts=3, retry_on=["failed"])
    dispatcher.run(slice_seconds=0.5, take_queued=True)
    with session_scope() as session:
        assert session.get(Campaign, cid).status == "paused"
    assert sorted(c.status for c in _calls(cid))[0] == "failed"
    with pytest.raises(ValueError, match="unknown telephony provider"):
        get_provider("nobody")
    with pytest.raises(ValueError):
        PlacementError("exploded", "no such kind")


def test_a_worker_with_an_unknown_provider_stops_at_once(campaign_env, set_env):  # noqa: F811
    from navaia_app.jobs.worker import run_worker

    set_env(TELEPHONY_PROVIDER="Nobody")
    assert run_worker(burst=True) == 2


def test_call_now_through_a_registered_provider(test_carrier, make_customers):
    (customer_id,) = make_customers(1)
    with session_scope() as session:
        call_id = calls.call_customer_now(session=session, customer_id=customer_id).id
    dispatcher.run(slice_seconds=1, take_queued=True)
    with session_scope() as session:
        call = session.get(CampaignCall, call_id)
        assert (call.status, call.purpose) == ("completed", "call_now")
