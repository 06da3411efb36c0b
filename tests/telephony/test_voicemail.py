"""Voicemail: Twilio's asynchronous answering-machine detection through the real `twilio` library against the
loopback stand-in (signed AMD callbacks, a bad signature changes nothing, a repeat leaves nothing twice, the
voicemail TwiML), the simulated carrier's machines and slow humans, ElevenLabs' post-call voicemail result,
and each outcome's status and retry decision."""

from __future__ import annotations

import pytest
from sqlmodel import select
from twilio.request_validator import RequestValidator

from navaia_app.campaigns import service
from navaia_app.campaigns.models import Campaign, CampaignCall, CampaignCallAttempt, CampaignIn
from navaia_app.core.db import session_scope
from navaia_app.customers.models import Customer
from navaia_app.outreach import calls as pipeline
from navaia_app.outreach import dispatcher, voicemail
from navaia_app.telephony import get_provider

from .conftest import AUTH_TOKEN
from .test_twilio import _customers, _run_until

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MESSAGE = "Hi {{customer_name}}, this is {{clinic}}. Please call us back. {{call_token}}"


def _campaign(**fields) -> int:
    fields = {"name": "Voicemail run", "calling_window_start": "00:00", "calling_window_end": "00:00",
              "calling_days": ALL_DAYS, "calls_per_second": 10, "max_concurrent_calls": 10, "max_attempts": 1,
              "variables": {"clinic": "Downtown Dental"}, **fields}
    with session_scope() as session:
        cid = service.create_campaign(session=session, campaign_in=CampaignIn(**fields)).id
        service.start_campaign(session=session, campaign_id=cid)
    return cid


def _calls(cid: int) -> dict[str, CampaignCall]:
    with session_scope() as session:
        rows = session.exec(select(CampaignCall, Customer.phone).join(Customer)
                            .where(CampaignCall.campaign_id == cid)).all()
        return {phone: call for call, phone in rows}


def _settled(cid: int, count: int):
    def check() -> bool:
        return sum(1 for c in _calls(cid).values() if c.last_outcome is not None) >= count
    return check


# --- Twilio: asynchronous AMD end to end ------------------------------------------------------------


def test_machine_gets_the_campaigns_message_and_is_not_retried(twilio_env, live_api):
    standin = twilio_env
    human, slow, machine = "+12125550181", "+12125550182", "+12125550183"
    standin.machine_numbers.add(machine)
    standin.slow_human_numbers.add(slow)
    _customers(human, slow, machine)
    cid = _campaign(voicemail_message=MESSAGE, max_attempts=3)
    _run_until(lambda: (standin.wait_idle(0.2) or True) and _settled(cid, 3)())
    standin.wait_idle()
    calls = _calls(cid)
    assert calls[human].status == calls[slow].status == "completed"  # people talk with the agent, AMD or not
    assert calls[machine].status == "voicemail_left" and calls[machine].attempts == 1  # never retried
    assert "voicemail message left (machine_end_beep)" == calls[machine].last_detail
    (sid, form), = standin.updates  # only the machine's call was changed, once
    assert sid == calls[machine].provider_call_id
    twiml = form["Twiml"][0]
    assert "<Say>Hi Person 2, this is Downtown Dental. Please call us back.</Say>" in twiml
    assert "<Hangup" in twiml and "call_token" not in twiml and "{{" not in twiml
    assert sorted(a for a, code, _ in standin.amd_statuses if code == 200) == ["human", "human", "machine_end_beep"]
    with session_scope() as session:
        assert session.get(Campaign, cid).status == "completed"


def test_machine_without_a_message_is_voicemail_and_retried(twilio_env, live_api):
    standin = twilio_env
    standin.machine_ending = "machine_end_silence"
    machine = "+12125550184"
    standin.machine_numbers.add(machine)
    _customers(machine)
    cid = _campaign(max_attempts=2)
    _run_until(lambda: (standin.wait_idle(0.2) or True) and _settled(cid, 1)())
    standin.wait_idle()
    call = _calls(cid)[machine]
    assert (call.last_outcome, call.status, call.attempts) == ("voicemail", "pending", 1)  # retried by default
    assert call.next_attempt_at is not None
    assert [form for _sid, form in standin.updates] == [{"Status": ["completed"]}]  # hung up, nothing played


def _seed_ringing_call(message: str = MESSAGE) -> tuple[int, str]:
    sid = "CA" + "7" * 32
    (customer_id,) = _customers("+12125550185")
    with session_scope() as session:
        campaign = service.create_campaign(session=session, campaign_in=CampaignIn(
            name="AMD", voicemail_message=message, variables={"clinic": "Uptown"}, max_attempts=3))
        call = CampaignCall(campaign_id=campaign.id, customer_id=customer_id, status="in_progress", attempts=1,
                            provider_call_id=sid)
        session.add(call)
        session.flush()
        session.add(CampaignCallAttempt(campaign_call_id=call.id, campaign_id=campaign.id, number=1,
                                        idempotency_key="navaia-amd-1", provider="twilio", status="in_progress",
                                        provider_call_id=sid))
        return call.id, sid


def _amd(client, base: str, params: dict[str, str], *, tamper: bool = False):
    path = "/api/webhooks/twilio/amd?attempt=navaia-amd-1"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(base + path, params)
    sent = {**params, "AnsweredBy": "human"} if tamper else params
    return client.post(base + path, data=sent, headers={"X-Twilio-Signature": signature})


def test_amd_callback_is_signed_and_idempotent(twilio_env, live_api):
    import httpx

    standin = twilio_env
    call_id, sid = _seed_ringing_call()
    params = {"CallSid": sid, "AccountSid": "AC" + "1" * 32, "AnsweredBy": "machine_end_other",
              "MachineDetectionDuration": "5100"}
    with httpx.Client(timeout=15) as client:
        assert _amd(client, live_api, params, tamper=True).status_code == 403
        unsigned = client.post(live_api + "/api/webhooks/twilio/amd?attempt=navaia-amd-1", data=params)
        assert unsigned.status_code == 403
        with session_scope() as session:
            assert session.get(CampaignCall, call_id).status == "in_progress"  # a bad signature changed nothing
        assert standin.updates == []
        first = _amd(client, live_api, params)
        again = _amd(client, live_api, params)
    assert first.status_code == 200 and first.json() == {"status": "voicemail_left"}
    assert again.json() == {"status": "duplicate"}
    assert len(standin.updates) == 1 and "Hi Person 0, this is Uptown." in standin.updates[0][1]["Twiml"][0]
    with session_scope() as session:
        call = session.get(CampaignCall, call_id)
        assert (call.status, call.attempts) == ("voicemail_left", 1)


def test_a_message_that_cannot_be_left_is_plain_voicemail(twilio_env, live_api, set_env):
    call_id, sid = _seed_ringing_call()
    set_env(TWILIO_API_BASE_URL="http://127.0.0.1:9")  # Twilio unreachable when the greeting ends
    outcome, detail = voicemail.leave_or_hang_up(get_provider("twilio"), sid, "Hello", "machine_end_beep")
    assert outcome == "voicemail" and "could not be left" in detail


def test_render_fills_the_calls_variables_and_never_the_token():
    text = voicemail.render("Hi {{ customer_name }}, {{unknown}}from {{clinic}} {{call_token}}",
                            {"customer_name": "Ana", "clinic": "Uptown", "call_token": "secret"})
    assert text == "Hi Ana, from Uptown"


# --- each outcome: its status and the retry decision ---------------------------------------------------


@pytest.mark.parametrize(("outcome", "retried"), [
    ("completed", False), ("busy", True), ("no_answer", True), ("failed", True), ("voicemail", True),
    ("voicemail_left", False)])
def test_each_outcome_status_and_retry(session, outcome, retried):
    customer = Customer(name="Retry", phone="+12125550186")
    session.add(customer)
    session.flush()
    campaign = service.create_campaign(session=session, campaign_in=CampaignIn(
        name="Retry", calling_window_start="00:00", calling_window_end="00:00", calling_days=ALL_DAYS,
        max_attempts=3))
    campaign.status = "running"
    call = CampaignCall(campaign_id=campaign.id, customer_id=customer.id, status="ringing", attempts=1,
                        provider_call_id="CAretry")
    session.add(call)
    session.flush()
    session.add(CampaignCallAttempt(campaign_call_id=call.id, campaign_id=campaign.id, number=1,
                                    idempotency_key="navaia-retry-1", provider="twilio", status="ringing",
                                    provider_call_id="CAretry"))
    session.flush()
    pipeline.report_call_update(session=session, provider_call_id="CAretry", status=outcome)
    session.flush()
    session.refresh(call)
    assert call.last_outcome == outcome
    assert call.status == ("pending" if retried else outcome)


def test_voicemail_left_cannot_be_put_in_a_retry_policy(session):
    from navaia_app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        service.create_campaign(session=session, campaign_in=CampaignIn(name="x", retry_on=["voicemail_left"]))
    assert "retry_on" in refused.value.errors


# --- the simulated carrier -----------------------------------------------------------------------------


@pytest.fixture
def simulated(app_env, set_env):
    set_env(REDIS_URL="redis://127.0.0.1:6390/0", TELEPHONY_PROVIDER="simulated", SIMULATED_TIME_SCALE="0.005",
            SIMULATED_CALLS_PER_SECOND="100", ELEVENLABS_WEBHOOK_SECRET="")


@pytest.mark.parametrize(("message", "expected"), [(MESSAGE, "voicemail_left"), ("", "voicemail")])
def test_simulated_machines(simulated, set_env, message, expected):
    set_env(SIMULATED_OUTCOMES="voicemail:100")
    _customers("+12125550187", "+12125550188")
    cid = _campaign(voicemail_message=message)
    _run_until(_settled(cid, 2))
    assert {c.status for c in _calls(cid).values()} == {expected}


def test_simulated_slow_human_is_a_person(simulated, set_env):
    from navaia_app.telephony.simulated import plan

    set_env(SIMULATED_OUTCOMES="slow_human:100")
    call = plan("SIMslow")
    assert call.outcome == "completed" and call.detail == "answered after a long greeting" and call.machine is None
    _customers("+12125550189")
    cid = _campaign()
    _run_until(_settled(cid, 1))
    (only,) = _calls(cid).values()
    assert only.status == "completed"


# --- ElevenLabs: the post-call data says what the agent met ----------------------------------------------


def _elevenlabs_call(session) -> CampaignCall:
    customer = Customer(name="Eleven", phone="+12125550190")
    session.add(customer)
    session.flush()
    campaign = service.create_campaign(session=session, campaign_in=CampaignIn(name="EL", max_attempts=3))
    call = CampaignCall(campaign_id=campaign.id, customer_id=customer.id, status="in_progress", attempts=1)
    session.add(call)
    session.flush()
    session.add(CampaignCallAttempt(campaign_call_id=call.id, campaign_id=campaign.id, number=1,
                                    idempotency_key="navaia-el-1", provider="elevenlabs", status="in_progress",
                                    provider_call_id="CAel"))
    session.commit()
    return call


@pytest.mark.parametrize(("left", "expected"), [(True, "voicemail_left"), (False, "voicemail")])
def test_elevenlabs_voicemail_detection_maps_the_same_way(session, deliver, left, expected):
    from navaia_app.conversations.models import Conversation
    from tests.conversations.conftest import sample

    call = _elevenlabs_call(session)
    doc = sample("post_call_raise_ticket")
    doc["data"]["conversation_id"] = f"conv-vm-{expected}"
    doc["data"]["analysis"]["data_collection_results"] = {}
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {"campaign_call_id": str(call.id)}
    doc["data"]["transcript"] = [
        {"role": "user", "message": "You have reached the voicemail of Eleven. Leave a message.",
         "time_in_call_secs": 1},
        {"role": "agent", "message": "", "time_in_call_secs": 6,
         "tool_calls": [{"type": "system", "tool_name": "voicemail_detection", "params_as_json": "{}"}]}]
    if left:
        doc["data"]["transcript"].append({"role": "agent", "message": "Hi Eleven, please call us back.",
                                          "time_in_call_secs": 8})
    deliver(doc)
    session.expire_all()
    stored = session.get(CampaignCall, call.id)
    assert stored.last_outcome == expected
    assert stored.status == ("voicemail_left" if left else "pending")  # voicemail is retried by default
    conversation = session.exec(select(Conversation).where(
        Conversation.external_id == f"conv-vm-{expected}")).one()
    assert conversation.outcome == "not_connected" and not conversation.needs_review


@pytest.fixture
def deliver(call_env, api_client):
    import json

    from navaia_app.jobs.tasks import process_webhook_event
    from tests.conversations.conftest import signed_headers

    def _deliver(doc: dict) -> None:
        body = json.dumps(doc).encode()
        response = api_client.post("/api/webhooks/elevenlabs", content=body, headers=signed_headers(body))
        assert response.status_code == 200, response.text
        assert process_webhook_event(response.json()["event_id"]) == "processed"

    return _deliver


@pytest.fixture
def call_env(app_env, set_env, tmp_path):
    from tests.conversations.conftest import SECRET

    set_env(ELEVENLABS_WEBHOOK_SECRET=SECRET, MEDIA_DIR=str(tmp_path / "media"), REDIS_URL="redis://127.0.0.1:6390/0")
