"""Call automation in the browser: the Playground books through the real signed webhook and the worker,
the conversation detail shows the transcript, the review queue turns a call into a ticket."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import CHROMIUM_FLAGS, E2E_WEBHOOK_SECRET, fail_on_error_toasts, watch_error_toasts
from .conftest import _chromium as browser_executable

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests/conversations/samples"
USER = {"name": "Cal Agent", "email": "calls@example.com", "password": "harbour violet compass 7"}


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "test", "DATABASE_URL": database_url,
            "REDIS_URL": redis_url, "LOG_LEVEL": "INFO"}


@pytest.fixture(scope="module")
def calls_user(live_app, e2e_database, e2e_redis_url):
    """An agent account of this module's own (created once; the app's first user may be someone else)."""
    subprocess.run([sys.executable, "-m", "navaia_app.cli", "create-user", "--email", USER["email"],
                    "--password", USER["password"], "--name", USER["name"], "--role", "agent"],
                   env=_env(e2e_database, e2e_redis_url), capture_output=True, text=True, timeout=60)
    return USER


@pytest.fixture(scope="module")
def worker(live_app, e2e_database, e2e_redis_url, tmp_path_factory):
    """The job worker, as `make run` starts it beside the web app."""
    log = open(tmp_path_factory.mktemp("worker") / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "navaia_app.cli", "worker"], env=_env(e2e_database, e2e_redis_url),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def sign_in(page, user=USER):
    page.goto("/login")
    page.fill("#email", user["email"])
    page.fill("#password", user["password"])
    page.click("#login-submit")
    expect(page.locator("#header-user-name")).to_have_text(user["name"])


def send_webhook(base_url: str, doc: dict) -> dict:
    body = json.dumps(doc).encode()
    t = int(time.time())
    signature = hmac.new(E2E_WEBHOOK_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    response = httpx.post(f"{base_url}/api/webhooks/elevenlabs", content=body, timeout=10,
                          headers={"Content-Type": "application/json", "ElevenLabs-Signature": f"t={t},v0={signature}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_playground_books_through_the_signed_webhook_and_the_record_appears(page, calls_user, worker):
    sign_in(page)
    page.goto("/playground")
    expect(page.locator("#pg-send")).to_be_enabled()
    page.fill("#pg-customer_name", "Playground Pat")
    page.fill("#pg-customer_phone", "+1 415 555 0177")
    page.fill("#pg-service", "Eye exam")
    page.click("#pg-send")
    result = page.locator(".call-result").first
    expect(result).to_contain_text("200 accepted")  # stored by the real, signed webhook
    expect(result).to_contain_text("Booked", timeout=30_000)  # ...and turned into a booking by the worker
    expect(result.locator(".playground-detail")).to_contain_text(re.compile(r"Booking #\d+: Eye exam"))

    result.get_by_role("button", name="Open call").click()
    expect(page).to_have_url(re.compile(r"/conversations\?id=\d+"))
    expect(page.locator("#call-outcome")).to_have_text("Booked")
    expect(page.locator("#call-booking-link")).to_contain_text("Eye exam")
    expect(page.get_by_role("dialog")).to_contain_text("Playground Pat")


def test_the_conversation_detail_shows_the_transcript(page, live_app, calls_user, worker):
    doc = json.loads((SAMPLES / "post_call_raise_ticket.json").read_text())
    external_id = f"conv_e2e_{uuid.uuid4().hex[:10]}"
    doc["data"]["conversation_id"] = external_id
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {}
    doc["data"]["analysis"]["transcript_summary"] = "E2E: a customer was charged twice for November."
    assert send_webhook(live_app, doc)["status"] == "accepted"

    sign_in(page)
    page.goto("/conversations")
    row = page.locator(".call-row", has_text="E2E: a customer was charged twice")
    expect(row).to_be_visible(timeout=30_000)  # appears live once the worker ran
    expect(row).to_contain_text("Ticket raised")
    row.click()
    transcript = page.locator("#call-transcript")
    expect(transcript).to_contain_text("My invoice was charged twice this month.")
    expect(transcript).to_contain_text("I've opened a ticket for our billing team.")
    expect(transcript.get_by_text("Caller · 0:03")).to_be_visible()
    expect(page.locator("#call-ticket-link")).to_contain_text("Duplicate charge on monthly invoice")
    expect(page.get_by_role("dialog")).to_contain_text(external_id)


def test_a_call_in_review_becomes_a_ticket(page, live_app, calls_user, worker):
    doc = json.loads((SAMPLES / "post_call_raise_ticket.json").read_text())
    doc["data"]["conversation_id"] = f"conv_e2e_review_{uuid.uuid4().hex[:8]}"
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = {}
    doc["data"]["analysis"]["transcript_summary"] = "E2E review: the caller wants to change their plan."
    doc["data"]["analysis"]["data_collection_results"]["intent"] = {"value": "change_plan"}
    send_webhook(live_app, doc)

    sign_in(page)
    page.goto("/conversations")
    expect(page.locator("#review-badge")).to_be_visible(timeout=30_000)  # the sidebar counts calls to review
    page.get_by_role("radio", name=re.compile("Needs review")).click()
    row = page.locator(".call-row", has_text="E2E review: the caller wants to change their plan.")
    expect(row).to_contain_text("Needs review", timeout=30_000)
    row.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Unknown intent 'change_plan'")
    page.click("#review-ticket")
    expect(page.locator("#review-title")).to_have_value("Duplicate charge on monthly invoice")  # pre-filled
    page.fill("#review-title", "Customer wants to change plan")
    page.click("#review-create-ticket")
    expect(page.locator("#call-outcome")).to_have_text("Ticket raised")
    expect(page.locator("#call-ticket-link")).to_contain_text("Customer wants to change plan")


def test_a_browser_call_shows_its_state_and_then_the_ticket_it_produced(browser, live_app, fake_elevenlabs,
                                                                          calls_user, worker):
    """The Support Agent page, through the official SDK, against the ElevenLabs stand-in: a fake
    microphone, the agent speaks, hangs up, sends its post-call webhook, and the ticket shows up."""
    httpx.post(f"{fake_elevenlabs}/_control/webhook", timeout=5,
               json={"url": f"{live_app}/api/webhooks/elevenlabs", "secret": E2E_WEBHOOK_SECRET})
    media = browser.browser_type.launch(executable_path=browser_executable(), args=[
        *CHROMIUM_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required"])
    try:
        context = media.new_context(base_url=live_app, viewport={"width": 1280, "height": 800})
        toasts = watch_error_toasts(context)
        context.grant_permissions(["microphone"])
        context.set_default_timeout(20_000)
        page = context.new_page()
        sign_in(page)
        page.goto("/support-agent")
        state = page.locator("#agent-call-state")
        expect(state).to_have_attribute("data-phase", "idle")
        page.click("#agent-call-start")
        expect(state).to_have_attribute("data-phase", re.compile("connecting|listening|speaking"))
        expect(state).to_have_attribute("data-phase", "speaking", timeout=15_000)  # the agent's reply plays
        expect(page.locator("#agent-call-end")).to_be_visible()
        expect(state).to_have_attribute("data-phase", "ended", timeout=20_000)  # the agent hung up
        expect(state).to_have_text("Call ended")
        result = page.locator(".call-result")
        expect(result).to_contain_text("Ticket raised", timeout=30_000)  # post-call webhook -> worker -> live
        expect(result).to_contain_text("Card reader stopped working")
    finally:
        media.close()
    fail_on_error_toasts(toasts)


def test_settings_list_what_to_configure_on_the_agent(page, calls_user):
    sign_in(page)
    page.goto("/settings")
    setup = page.locator("#voice-agent-setup")
    expect(setup).to_contain_text("/api/webhooks/elevenlabs")
    expect(setup).to_contain_text("/api/tools/book-appointment")
    expect(setup).to_contain_text("appointment_datetime")
    expect(setup).to_contain_text("agent_e2e")
