"""Twilio through the real `twilio` library against a loopback stand-in: placing calls, the signed
status and voice callbacks (valid, tampered, wrong URL), answering-machine detection, the
ElevenLabs register-call hand-over, and Twilio's errors as clear outcomes."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select
from twilio.request_validator import RequestValidator

from navaia_app.campaigns import service
from navaia_app.outreach import calls as pipeline
from navaia_app.outreach import dispatcher, pacing
from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt, CampaignIn
from navaia_app.core.call_tokens import read_call_token
from navaia_app.core.db import session_scope
from navaia_app.customers.models import CustomerIn
from navaia_app.customers.service import create_customer

from .conftest import ACCOUNT_SID, AGENT_ID, AUTH_TOKEN, FROM_NUMBER, TWIML

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PUBLIC = "https://navaia.example.com"


def _customers(*phones: str) -> list[int]:
    with session_scope() as session:
        return [create_customer(session=session, customer_in=CustomerIn(name=f"Person {i}", phone=phone)).id
                for i, phone in enumerate(phones)]


def _campaign(**fields) -> int:
    fields = {"name": "Twilio run", "calling_window_start": "00:00", "calling_window_end": "00:00",
              "calling_days": ALL_DAYS, "calls_per_second": 10, "max_concurrent_calls": 10, "max_attempts": 1,
              **fields}
    with session_scope() as session:
        cid = service.create_campaign(session=session, campaign_in=CampaignIn(**fields)).id
        service.start_campaign(session=session, campaign_id=cid)
    return cid


def _run_until(predicate, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dispatcher.run(slice_seconds=1, take_queued=True)
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _calls(cid: int) -> dict[str, CampaignCall]:
    from navaia_app.customers.models import Customer

    with session_scope() as session:
        rows = session.exec(select(CampaignCall, Customer.phone).join(Customer)
                            .where(CampaignCall.campaign_id == cid)).all()
        return {phone: call for call, phone in rows}


def _done(cid: int):
    def check() -> bool:
        with session_scope() as session:
            return session.get(Campaign, cid).status in ("completed", "paused")
    return check


# --- signatures ---------------------------------------------------------------------------------


@pytest.fixture
def signed_client(app_env, set_env, api_client):
    set_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PUBLIC, REDIS_URL="redis://127.0.0.1:6390/0")
    return api_client


def _post(client, path: str, params: dict[str, str], *, sign_url: str | None = None, tamper: bool = False):
    url = sign_url or PUBLIC + path
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    sent = {**params, "CallStatus": "completed"} if tamper else params
    return client.post(path, data=sent, headers={"X-Twilio-Signature": signature})


STATUS = {"AccountSid": ACCOUNT_SID, "CallSid": "CA0f4e1b2c3d4e5f60718293a4b5c6d7e8", "CallStatus": "ringing",
          "From": FROM_NUMBER, "To": "+14155550123", "Direction": "outbound-api", "ApiVersion": "2010-04-01"}


def test_status_callback_signature_valid_tampered_and_wrong_url(signed_client):
    path = "/api/webhooks/twilio/status?attempt=navaia-1-1"
    assert _post(signed_client, path, STATUS).status_code == 200
    assert _post(signed_client, path, STATUS, tamper=True).status_code == 403
    assert _post(signed_client, path, STATUS, sign_url="https://elsewhere.example.com" + path).status_code == 403
    assert _post(signed_client, path, STATUS, sign_url=PUBLIC + "/api/webhooks/twilio/status").status_code == 403
    missing = signed_client.post(path, data=STATUS)
    assert missing.status_code == 403 and missing.json()["detail"] == "Invalid X-Twilio-Signature."
    assert _post(signed_client, "/api/webhooks/twilio/voice", {**STATUS, "CallStatus": "in-progress"},
                 tamper=True).status_code == 403


def test_without_an_auth_token_every_callback_is_refused(app_env, set_env, api_client):
    set_env(TWILIO_AUTH_TOKEN="", PUBLIC_BASE_URL=PUBLIC)
    assert _post(api_client, "/api/webhooks/twilio/status", STATUS).status_code == 403


def test_a_repeated_status_is_already_seen(signed_client, make_customers_simple):
    cid = make_customers_simple
    with session_scope() as session:
        call = session.exec(select(CampaignCall).where(CampaignCall.campaign_id == cid)).first()
        attempt = CampaignCallAttempt(campaign_call_id=call.id, campaign_id=cid, number=1,
                                      idempotency_key="navaia-x-1", provider="twilio", status="ringing",
                                      provider_call_id=STATUS["CallSid"])
        call.status, call.attempts, call.provider_call_id = "ringing", 1, STATUS["CallSid"]
        session.add(attempt)
        session.add(call)
    busy = {**STATUS, "CallStatus": "busy"}
    first = _post(signed_client, "/api/webhooks/twilio/status", busy)
    again = _post(signed_client, "/api/webhooks/twilio/status", busy)
    assert first.json() == {"status": "ok"} and again.json() == {"status": "duplicate"}
    with session_scope() as session:
        call = session.get(CampaignCall, call.id)
        assert (call.status, call.last_outcome, call.attempts) == ("busy", "busy", 1)


@pytest.fixture
def make_customers_simple(app_env, set_env):
    set_env(REDIS_URL="redis://127.0.0.1:6390/0")
    _customers("+14155550123")
    with session_scope() as session:
        cid = service.create_campaign(session=session, campaign_in=CampaignIn(name="One", max_attempts=1)).id
        service.start_campaign(session=session, campaign_id=cid)
    return cid


# --- end to end through the twilio library ---------------------------------------------------------


def test_campaign_through_twilio_end_to_end(twilio_env, live_api):
    standin = twilio_env
    human, machine, invalid = "+12125550171", "+12125550172", "+12125550173"
    standin.machine_numbers.add(machine)
    standin.durations[human] = 42
    standin.errors_by_to[invalid] = [(400, 21211, "The 'To' number +12125550173 is not a valid phone number.")]
    ids = _customers(human, machine, invalid)
    cid = _campaign(variables={"clinic": "Downtown"})
    _run_until(lambda: (standin.wait_idle(0.2) or True) and _done(cid)())
    standin.wait_idle()

    # what Twilio was asked, through the real library
    assert len(standin.calls) == 3
    first = next(form for form in standin.calls if form["To"] == [human])
    assert first["From"] == [FROM_NUMBER]
    assert first["Url"][0].startswith(live_api + "/api/webhooks/twilio/voice?attempt=navaia-")
    assert first["StatusCallback"][0].startswith(live_api + "/api/webhooks/twilio/status?attempt=navaia-")
    assert first["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert (first["MachineDetection"], first["AsyncAmd"]) == (["DetectMessageEnd"], ["true"])
    assert first["AsyncAmdStatusCallback"][0].startswith(live_api + "/api/webhooks/twilio/amd?attempt=navaia-")
    assert all(code == 200 for _, code in standin.callback_statuses)

    calls = _calls(cid)
    assert (calls[human].status, calls[human].duration_seconds, calls[human].attempts) == ("completed", 42, 1)
    assert calls[human].provider_call_id.startswith("CA")
    # a machine, and this campaign has no voicemail message: hung up once its greeting ended
    assert calls[machine].status == "voicemail" and "no voicemail message" in calls[machine].last_detail
    assert [(sid, form) for sid, form in standin.updates] == [(calls[machine].provider_call_id,
                                                               {"Status": ["completed"]})]
    assert calls[invalid].status == "failed" and calls[invalid].last_detail.startswith("invalid number (Twilio 21211")

    # asynchronous AMD: every answered call goes to the agent at once (TwiML from register-call), nobody waits
    assert standin.voice_answers == [TWIML, TWIML]
    registered = next(r for r in standin.register_calls if r["body"]["to_number"] == human)
    assert registered["key"] == "xi-test-key"
    body = registered["body"]
    assert (body["agent_id"], body["direction"], body["to_number"], body["from_number"]) == (
        AGENT_ID, "outbound", human, FROM_NUMBER)
    variables = body["conversation_initiation_client_data"]["dynamic_variables"]
    token = variables.pop("call_token")  # signed: the agent's tools act only on what it names
    assert variables == {"clinic": "Downtown", "customer_id": str(ids[0]), "campaign_id": str(cid),
                         "campaign_call_id": str(calls[human].id), "customer_name": "Person 0"}
    assert read_call_token(token) == {"customer_id": ids[0], "call_id": calls[human].id, "purpose": "campaign"}
    with session_scope() as session:
        assert session.get(Campaign, cid).status == "completed"


def test_rate_limit_is_retried_and_auth_failure_pauses(twilio_env, live_api, set_env):
    standin = twilio_env
    limited = "+12125550174"
    standin.errors_by_to[limited] = [(429, 20429, "Too Many Requests")]
    _customers(limited)
    cid = _campaign()
    _run_until(_done(cid))
    standin.wait_idle()
    call = _calls(cid)[limited]
    assert (call.status, call.attempts, call.tries) == ("completed", 1, 2)  # the refused try did not count
    with session_scope() as session:
        first = session.exec(select(CampaignCallAttempt).where(CampaignCallAttempt.number == 1)).one()
        assert first.status == "not_placed" and "rate limited" in first.detail

    set_env(TWILIO_AUTH_TOKEN="wrong-token")
    _customers("+12125550175")
    second = _campaign(name="Bad credentials")
    _run_until(_done(second))
    with session_scope() as session:
        campaign = session.get(Campaign, second)
        assert campaign.status == "paused" and "authentication failed" in campaign.status_reason
    call = _calls(second)["+12125550175"]
    assert call.status == "failed" and "Twilio 20003" in call.last_detail


def test_call_now_through_elevenlabs_outbound_api(twilio_env, set_env):
    set_env(TELEPHONY_PROVIDER="elevenlabs")
    (customer_id,) = _customers("+12125550176")
    with session_scope() as session:
        call_id = pipeline.call_customer_now(session=session, customer_id=customer_id).id
    dispatcher.run(slice_seconds=1, take_queued=True)
    (request,) = twilio_env.outbound_calls
    assert request["key"] == "xi-test-key"
    assert (request["body"]["agent_id"], request["body"]["agent_phone_number_id"], request["body"]["to_number"]) == (
        AGENT_ID, "phnum_standin", "+12125550176")
    variables = request["body"]["conversation_initiation_client_data"]["dynamic_variables"]
    assert variables["campaign_call_id"] == str(call_id) and variables["campaign_id"] == ""
    with session_scope() as session:
        call = session.get(CampaignCall, call_id)
        attempt = session.exec(select(CampaignCallAttempt)).one()
        assert call.status == "ringing" and attempt.external_conversation_id.startswith("conv_")
        # the outcome comes back through the post-call webhook (the call-automation side calls this)
        pipeline.record_call_outcome(session=session, outcome="no_answer", campaign_call_id=call_id,
                                    detail="no-answer")
        assert session.get(CampaignCall, call_id).status == "no_answer"
