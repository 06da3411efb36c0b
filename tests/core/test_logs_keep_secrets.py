"""Search what a realistic run logged for the secrets and full phone numbers it used: none may appear."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

SECRET = "whsec-test-0f9e8d7c6b5a49382716"
PHONE = "+14155550123"
OTHER_PHONE = "+12125550147"
PASSWORD = "orbit lantern meadow"


def _signed(body: bytes) -> str:
    t = int(time.time())
    return f"t={t},v0={hmac.new(SECRET.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


def test_no_secret_or_phone_number_reaches_the_logs(api_client, make_user, set_env, capfd):
    set_env(ELEVENLABS_WEBHOOK_SECRET=SECRET, LOG_LEVEL="DEBUG")
    make_user(email="ada@example.com", role="admin", password=PASSWORD)
    token = api_client.post("/api/v1/auth/token", json={"email": "ada@example.com", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    api_client.post("/api/v1/auth/token", json={"email": "ada@example.com", "password": PASSWORD + "x"})
    assert api_client.post("/api/v1/customers", headers=headers,
                           json={"name": "Maria Lopez", "phone": "(415) 555-0123"}).status_code == 201
    assert api_client.post("/api/v1/customers", headers=headers,
                           json={"name": "Dup", "phone": PHONE}).status_code == 409
    api_client.get("/api/v1/customers", headers=headers, params={"phone": PHONE})
    api_client.get("/api/v1/customers", headers=headers, params={"q": "4155550123"})
    body = json.dumps({"type": "post_call_transcription", "event_timestamp": int(time.time()), "data": {
        "agent_id": "agent_1", "conversation_id": "conv_logs_1", "status": "done", "transcript": [],
        "metadata": {"phone_call": {"external_number": OTHER_PHONE}},
        "analysis": {"data_collection_results": {"intent": {"value": "raise_ticket"},
                                                 "customer_phone": {"value": OTHER_PHONE},
                                                 "issue_summary": {"value": "Printer on fire"}}}}}).encode()
    api_client.post("/api/webhooks/elevenlabs", content=body,
                    headers={"ElevenLabs-Signature": _signed(body), "Content-Type": "application/json"})

    out, err = capfd.readouterr()
    logged = out + err  # exactly what the app's log handlers wrote
    assert "customer.created" in logged and "HTTP Request" in logged  # the run really logged, libraries too
    for secret in (SECRET, PASSWORD, token["access_token"]):
        assert secret not in logged
    for number in (PHONE, OTHER_PHONE, PHONE[1:], OTHER_PHONE[1:], "4155550123", "%2B14155550123"):
        where = logged.find(number)
        assert where < 0, f"{number} leaked into the logs: ...{logged[max(0, where - 300):where + 60]}"


def test_formatted_phone_numbers_are_masked_and_dates_are_not(capfd):
    from navaia_app.core.logging import configure_logging, get_logger

    configure_logging()
    written = ["+1 415 555 0123", "+1 (415) 555-0123", "+44 20 7946 0958", "(415) 555-0123", "415.555.0123",
               "415-555-0123", "+33 6 12 34 56 78"]
    for number in written:
        get_logger("test").warning("caller said", said=f"call me on {number} please", number=number)
    kept = ["2026-12-01 11:23:16", "2026-12-01T11:23:16+00:00", "192.168.100.200", "took 12.5 ms"]
    get_logger("test").warning("not phones", values=" | ".join(kept))
    out, err = capfd.readouterr()
    logged = out + err
    for number in written:
        assert number not in logged, number
        assert "".join(c for c in number if c.isdigit())[:-2] not in logged
    for value in kept:
        assert value in logged, value
