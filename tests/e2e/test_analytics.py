"""Analytics in the browser: two simulated campaigns (one leaves a voicemail message, one does not) run to the
end by a real worker, a caller is handed off to a person, and the Analytics page's funnel and heatmap show
exactly what the REST API answers. Fails on any page error or error toast (a backend exception shows as one)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from navaia_app.core.signing import sign_elevenlabs as sign
from tests.e2e.conftest import E2E_TOOLS_SECRET, E2E_WEBHOOK_SECRET

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
USER = {"email": "analytics-e2e@example.com", "password": "copper meadow signal 31", "name": "Ana Lytics"}
ZONES = ["America/New_York", "Europe/Paris", "Asia/Kolkata", "Australia/Sydney"]
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture(scope="module")
def analytics_worker(live_app, e2e_database, e2e_redis_url, tmp_path_factory):
    """A worker whose simulated carrier meets people, machines, busy lines and silence; no post-call events."""
    env = {**os.environ, "DATABASE_URL": e2e_database, "REDIS_URL": e2e_redis_url, "APP_ENV": "test",
           "PUBLIC_BASE_URL": live_app, "ELEVENLABS_WEBHOOK_SECRET": "", "TELEPHONY_PROVIDER": "simulated",
           "SIMULATED_TIME_SCALE": "0.02", "PYTHONPATH": str(ROOT),
           "SIMULATED_OUTCOMES": "completed:35,slow_human:10,voicemail:30,no_answer:15,busy:10"}
    log = open(tmp_path_factory.mktemp("analytics-worker") / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "navaia_app.cli", "worker"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    log.close()


@pytest.fixture(scope="module")
def api(live_app, e2e_database):
    env = {**os.environ, "DATABASE_URL": e2e_database, "APP_ENV": "test", "PYTHONPATH": str(ROOT)}
    made = subprocess.run([sys.executable, "-m", "navaia_app.cli", "create-user", "--email", USER["email"],
                           "--password", USER["password"], "--name", USER["name"], "--role", "admin"], env=env,
                          capture_output=True, text=True)
    assert made.returncode in (0, 2), made.stderr
    token = httpx.post(f"{live_app}/api/v1/auth/token", json={"email": USER["email"], "password": USER["password"]})
    assert token.status_code == 200, token.text
    with httpx.Client(base_url=live_app, timeout=30,
                      headers={"Authorization": f"Bearer {token.json()['access_token']}"}) as client:
        yield client


def _campaign(api, name: str, customer_ids: list[int], voicemail_message: str) -> int:
    body = {"name": name, "customer_ids": customer_ids, "calls_per_second": 10, "max_concurrent_calls": 20,
            "max_attempts": 1, "calling_window_start": "00:00", "calling_window_end": "00:00",
            "calling_days": ALL_DAYS, "voicemail_message": voicemail_message}
    created = api.post("/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    assert api.post(f"/api/v1/campaigns/{campaign_id}/start").status_code == 200
    return campaign_id


def _wait_completed(api, campaign_id: int) -> None:
    deadline = time.monotonic() + 180
    while api.get(f"/api/v1/campaigns/{campaign_id}").json()["status"] != "completed":
        assert time.monotonic() < deadline, api.get(f"/api/v1/campaigns/{campaign_id}").json()
        time.sleep(1)


def _hand_off(live_app, api, campaign_id: int) -> None:
    """The agent is asked for a person (the request-handoff tool), transfers, and its post-call data says so."""
    calls = api.get(f"/api/v1/campaigns/{campaign_id}/calls", params={"status": "completed"}).json()["items"]
    assert calls, "the simulated carrier answered no call"
    call = calls[0]
    tool = httpx.post(f"{live_app}/api/tools/request-handoff", headers={"X-Agent-Tools-Secret": E2E_TOOLS_SECRET},
                      json={"reason": "wants a person", "conversation_id": "conv_e2e_handoff"})
    assert tool.status_code == 200, tool.text
    doc = {"type": "post_call_transcription", "event_timestamp": int(time.time()), "data": {
        "agent_id": "agent_e2e", "conversation_id": "conv_e2e_handoff", "status": "done",
        "transcript": [
            {"role": "user", "message": "Can I talk to a person?", "time_in_call_secs": 3},
            {"role": "agent", "message": "Transferring you now.", "time_in_call_secs": 6,
             "tool_calls": [{"type": "system", "tool_name": "transfer_to_number",
                             "params_as_json": json.dumps({"transfer_number": "+12125550100"})}],
             "tool_results": [{"tool_name": "transfer_to_number", "is_error": False}]}],
        "metadata": {"start_time_unix_secs": int(time.time()) - 30, "call_duration_secs": 20, "cost": 150,
                     "phone_call": {"direction": "outbound", "external_number": "+33142868200"}},
        "analysis": {"call_successful": "unknown", "transcript_summary": "The customer asked for a person.",
                     "evaluation_criteria_results": {"polite": {"criteria_id": "polite", "result": "success",
                                                                "rationale": "Courteous throughout."}},
                     "data_collection_results": {}},
        "conversation_initiation_client_data": {"dynamic_variables": {"campaign_call_id": str(call["id"]),
                                                                      "customer_id": str(call["customer_id"])}}}}
    body = json.dumps(doc).encode()
    sent = httpx.post(f"{live_app}/api/webhooks/elevenlabs", content=body,
                      headers={"ElevenLabs-Signature": sign(body, E2E_WEBHOOK_SECRET, int(time.time())),
                               "Content-Type": "application/json"})
    assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 60
    while not api.get("/api/v1/conversations", params={"handed_off": "true"}).json()["items"]:
        assert time.monotonic() < deadline, "the hand-off never reached the conversation"
        time.sleep(1)


def _watch_for_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    return errors


def _no_error_toast(page) -> None:
    expect(page.locator("[data-sonner-toast][data-type='error']")).to_have_count(0)


def _funnel_matches(page, counts: dict) -> None:
    for key in ("dialled", "answered", "goal_reached", "voicemail", "voicemail_left", "no_answer", "busy",
                "failed"):
        expect(page.locator(f"#funnel-{key}")).to_have_text(str(counts[key]))


def _heatmap_matches(page, heatmap: list[dict]) -> None:
    cells = page.locator("#analytics-heatmap td[id^='heat-']")
    expect(cells).to_have_count(7 * 24)
    shown = page.eval_on_selector_all(
        "#analytics-heatmap td[id^='heat-']",
        "cells => cells.map(c => [c.id, Number(c.dataset.dialled), Number(c.dataset.answered)])")
    expected = [[f"heat-{c['weekday']}-{c['hour']}", c["dialled"], c["answered"]] for c in heatmap]
    assert sorted(shown) == sorted(expected)


def test_funnel_and_heatmap_match_the_rest_api(page, live_app, api, analytics_worker):
    customers = []
    for i in range(16):
        made = api.post("/api/v1/customers", json={"name": f"Analytics {i}", "phone": f"+33142868{200 + i:03d}",
                                                   "timezone": ZONES[i % len(ZONES)]})
        assert made.status_code == 201, made.text
        customers.append(made.json()["id"])
    with_message = _campaign(api, "Spring voicemail", customers[:10], "Hi {{customer_name}}, this is Navaia. "
                                                                      "Please call us back.")
    without = _campaign(api, "Spring no message", customers[10:], "")
    _wait_completed(api, with_message)
    _wait_completed(api, without)
    _hand_off(live_app, api, with_message)

    first = api.get(f"/api/v1/analytics/campaigns/{with_message}").json()
    second = api.get(f"/api/v1/analytics/campaigns/{without}").json()
    assert first["counts"]["dialled"] == 10 and second["counts"]["dialled"] == 6
    assert first["counts"]["voicemail"] == 0 and second["counts"]["voicemail_left"] == 0  # the message decides
    assert first["counts"]["voicemail_left"] + second["counts"]["voicemail"] > 0
    assert first["conversations"]["handed_off"] == 1

    errors = _watch_for_errors(page)
    page.goto("/login")
    page.fill("#email", USER["email"])
    page.fill("#password", USER["password"])
    page.click("#login-submit")
    expect(page.locator("#header-user-name")).to_have_text(USER["name"])
    page.goto(f"/analytics?campaign_id={with_message}")
    expect(page.locator("#analytics-period")).to_contain_text("every call of the campaign")
    _funnel_matches(page, first["counts"])
    _heatmap_matches(page, first["heatmap"])
    expect(page.locator("#conversations-handed-off")).to_have_text("1")

    page.select_option("#analytics-scope", str(without))
    _funnel_matches(page, second["counts"])
    _heatmap_matches(page, second["heatmap"])

    page.select_option("#analytics-scope", "all")  # every call of the last 30 days
    start, end = page.input_value("#analytics-start"), page.input_value("#analytics-end")
    everything = api.get("/api/v1/analytics/calls", params={"start": start, "end": end}).json()
    _funnel_matches(page, everything["counts"])
    _heatmap_matches(page, everything["heatmap"])
    assert everything["counts"]["dialled"] >= 16

    page.goto("/conversations")
    page.get_by_role("radio", name="Handed off").click()
    expect(page.get_by_role("row")).to_have_count(2)  # the header and the one handed-off call
    _no_error_toast(page)
    assert errors == []
