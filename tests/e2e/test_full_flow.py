"""One working day, end to end, in the production build: a staff member signs in, adds a customer, raises
a ticket, books a free slot, runs a campaign with the simulated carrier and watches it finish live; then the
voice agent's signed post-call webhook books that customer again, and the booking shows up on the Bookings
page that is already open, and the call on the Conversations page. The REST API agrees at the end.

Its data cannot meet the other browser tests': its own admin, a customer with a unique phone number in
Ofcom's drama range, and slots three weeks ahead (the others book tomorrow-ish: the next weekday at 10:00,
and the Playground's first free slot within 14 days)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import E2E_WEBHOOK_SECRET

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests/conversations/samples"
USER = {"name": "Flo Wright", "email": "full-flow-e2e@example.com", "password": "copper tide lantern 42"}


@pytest.fixture(scope="module")
def flow_user(live_app, e2e_database):
    """An admin of this module's own, made with the admin CLI (as the other browser tests make theirs)."""
    env = {**os.environ, "DATABASE_URL": e2e_database, "APP_ENV": "test", "PYTHONPATH": str(ROOT)}
    made = subprocess.run([sys.executable, "-m", "navaia_app.cli", "create-user", "--email", USER["email"],
                           "--password", USER["password"], "--name", USER["name"], "--role", "admin"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0 or "already exists" in made.stderr, made.stderr
    return USER


def _wednesday_three_weeks_ahead() -> date:
    """A Wednesday 21-27 days from now: beyond every slot the other tests take, and with Thursday in the
    same calendar week."""
    day = datetime.now(timezone.utc).date() + timedelta(days=21)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return day


def _slots_label(day: date) -> str:
    return f"Free slots on {day:%A} {day.day} {day:%B}"


def _pick_customer(page, prefix: str, name: str) -> None:
    page.fill(f"#{prefix}-customer-search", name)
    page.get_by_role("option", name=re.compile(re.escape(name))).click()
    expect(page.locator(f"#{prefix}-customer-chosen")).to_contain_text(name)


def _send_signed_webhook(base_url: str, doc: dict) -> httpx.Response:
    body = json.dumps(doc).encode()
    t = int(time.time())
    signature = hmac.new(E2E_WEBHOOK_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return httpx.post(f"{base_url}/api/webhooks/elevenlabs", content=body, timeout=20,
                      headers={"Content-Type": "application/json", "ElevenLabs-Signature": f"t={t},v0={signature}"})


def test_a_staff_members_day_from_sign_in_to_a_booking_made_by_the_voice_agent(new_context, live_app, flow_user,
                                                                              e2e_worker):
    tag = uuid.uuid4().hex[:6]
    name = f"Hedy Lamarr {tag}"
    digits = f"{uuid.uuid4().int % 1000:03d}"
    phone_typed = f"+44 161 496 0{digits}"  # Ofcom's range for drama: never a real person
    phone_e164 = f"+441614960{digits}"
    ticket_title = f"Boiler pressure drops overnight {tag}"
    campaign_name = f"Service reminder {tag}"
    manual_day = _wednesday_three_weeks_ahead()
    agent_day = manual_day + timedelta(days=1)
    summary = f"Full flow {tag}: the caller booked a boiler service on the phone."

    # The viewer's zone is the browser's: UTC, the business's zone, so times read the same everywhere.
    context = new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    page = context.new_page()
    try:
        # --- sign in through the login form ------------------------------------------------------------
        page.goto("/login")
        page.fill("#email", flow_user["email"])
        page.fill("#password", flow_user["password"])
        page.click("#login-submit")
        expect(page.locator("#header-user-name")).to_have_text(flow_user["name"])

        # --- a new customer -----------------------------------------------------------------------------
        page.goto("/customers")
        page.click("#new-customer")
        page.fill("#customer-name", name)
        page.fill("#customer-phone", phone_typed)
        page.fill("#customer-email", f"hedy.{tag}@example.com")
        page.click("#customer-submit")
        expect(page.get_by_text(f"Added {name}.")).to_be_visible()
        page.fill("#customer-search", tag)
        expect(page.get_by_role("row").filter(has_text=name)).to_have_count(1)

        # --- a ticket for them, through the "New ticket" dialog -------------------------------------------
        page.goto("/tickets")
        page.click("#new-ticket")
        _pick_customer(page, "ticket", name)
        page.fill("#ticket-title", ticket_title)
        page.fill("#ticket-description", "The pressure gauge reads 0.5 bar every morning.")
        page.click("#ticket-priority")
        page.get_by_role("option", name="High").click()
        page.click("#ticket-submit")
        expect(page.get_by_role("dialog")).to_have_count(0)
        ticket_row = page.get_by_role("row").filter(has_text=ticket_title)
        expect(ticket_row).to_have_count(1)
        expect(ticket_row).to_contain_text(name)
        expect(ticket_row).to_contain_text("High")
        expect(ticket_row.get_by_role("combobox", name="Ticket status")).to_have_text("Open")

        # --- a booking in a free slot, through the "New booking" dialog -----------------------------------
        page.goto("/bookings")
        expect(page.locator("#booking-calendar")).to_be_visible()
        page.click("#new-booking")
        dialog = page.get_by_role("dialog")
        _pick_customer(page, "booking", name)
        page.fill("#booking-service", "Boiler inspection")
        page.fill("#booking-day", manual_day.isoformat())
        expect(dialog.locator("#booking-slots-label")).to_have_text(_slots_label(manual_day))
        slot = dialog.get_by_role("button", name="14:00", exact=True)
        expect(slot).to_be_visible()
        slot.click()
        expect(slot).to_have_attribute("aria-pressed", "true")
        page.click("#booking-submit")
        expect(dialog).to_have_count(0)
        page.fill("#calendar-go-to", manual_day.isoformat())
        manual_block = page.locator(f"#calendar-day-{manual_day.isoformat()} .calendar-block")
        expect(manual_block).to_have_count(1)
        expect(manual_block).to_contain_text("14:00–14:30")
        expect(manual_block).to_contain_text(name)

        # --- a campaign that calls them, run with the simulated carrier, watched to the end live -----------
        page.goto("/campaigns")
        page.click("#new-campaign")
        dialog = page.get_by_role("dialog")
        page.fill("#campaign-name", campaign_name)
        page.fill("#campaign-purpose", "remind them that the yearly boiler service is due")
        page.fill("#campaign-calling_window_start", "00:00")
        page.fill("#campaign-calling_window_end", "00:00")
        for weekday in ("Sat", "Sun"):  # any day of the week, so the test runs at weekends too
            checkbox = dialog.get_by_role("checkbox", name=weekday)
            if checkbox.get_attribute("aria-checked") != "true":
                checkbox.click()
            expect(checkbox).to_have_attribute("aria-checked", "true")
        page.fill("#campaign-calls_per_second", "5")
        page.fill("#campaign-max_concurrent_calls", "5")
        page.fill("#campaign-max_attempts", "1")
        dialog.get_by_role("radio", name="Pick").click()  # the audience: this customer only
        dialog.get_by_placeholder("Find customers").fill(tag)
        pick_row = dialog.locator(".rt-Flex").filter(has=page.get_by_text(name, exact=True)).filter(
            has=page.get_by_role("checkbox")).last
        pick_row.get_by_role("checkbox").click()
        expect(dialog.get_by_text("1 picked")).to_be_visible()
        expect(page.locator("#audience-preview")).to_have_text(re.compile(r"^1 customer \("))
        page.click("#campaign-submit")
        expect(page).to_have_url(re.compile(r"/campaigns/\d+$"))
        expect(page.locator("#campaign-name")).to_have_text(campaign_name)
        expect(page.get_by_text("Not run yet")).to_be_visible()
        page.get_by_role("button", name="Run").click()
        # One simulated call at 20x speed: running may last less than a poll, so only the end is asserted.
        expect(page.get_by_text("Not run yet")).to_have_count(0)
        expect(page.locator("#campaign-progress-label")).to_have_text(re.compile(r"^100(\.0)?%$"), timeout=120_000)
        header = page.locator("#campaign-name").locator("xpath=..")  # the name and its status badge
        expect(header.get_by_text("Completed", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Pause")).to_have_count(0)
        expect(page.get_by_role("row").filter(has_text=name)).to_have_count(1)  # its one call, to this customer

        # --- the voice agent books them by phone; the open Bookings page shows it without a reload --------
        page.goto("/bookings")
        page.fill("#calendar-go-to", agent_day.isoformat())
        expect(page.locator(f"#calendar-day-{manual_day.isoformat()} .calendar-block")).to_have_count(1)
        agent_block = page.locator(f"#calendar-day-{agent_day.isoformat()} .calendar-block")
        expect(agent_block).to_have_count(0)

        doc = json.loads((SAMPLES / "post_call_book_appointment.json").read_text())
        data = doc["data"]
        doc["event_timestamp"] = int(time.time())
        data["conversation_id"] = f"conv_e2e_flow_{tag}"
        data["metadata"]["start_time_unix_secs"] = int(time.time()) - 60
        data["metadata"]["phone_call"]["external_number"] = phone_e164  # the caller: a known customer
        data["metadata"]["phone_call"]["call_sid"] = f"CAe2eflow{tag}"
        data["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] = phone_e164
        data["analysis"]["transcript_summary"] = summary
        results = data["analysis"]["data_collection_results"]
        results.pop("customer_email")
        results["customer_name"]["value"] = name
        results["service"]["value"] = "Boiler service"
        results["appointment_datetime"]["value"] = f"{agent_day.isoformat()}T15:00:00"  # business zone (UTC)
        response = _send_signed_webhook(live_app, doc)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "accepted"

        expect(agent_block).to_have_count(1, timeout=30_000)  # worker -> database -> live ticker
        expect(agent_block).to_contain_text("15:00–15:30")
        expect(agent_block).to_contain_text(name)
        page.get_by_role("radio", name="List").click()
        agent_row = page.get_by_role("row").filter(has_text="Boiler service")
        expect(agent_row).to_have_count(1)
        expect(agent_row).to_contain_text(name)
        expect(page.get_by_role("row").filter(has_text="Boiler inspection")).to_contain_text(name)

        # --- and the call itself on the Conversations page ------------------------------------------------
        page.goto("/conversations")
        call_row = page.locator(".call-row", has_text=summary)
        expect(call_row).to_be_visible(timeout=30_000)
        expect(call_row).to_contain_text("Booked")
        call_row.click()
        expect(page.locator("#call-outcome")).to_have_text("Booked")
        expect(page.locator("#call-booking-link")).to_contain_text("Boiler service")
        expect(page.get_by_role("dialog")).to_contain_text(name)
        expect(page.locator("#call-transcript")).to_contain_text("I'd like to book a dental cleaning")
    finally:
        context.close()

    # --- the REST API agrees ------------------------------------------------------------------------------
    token = httpx.post(f"{live_app}/api/v1/auth/token", json={"email": flow_user["email"],
                                                              "password": flow_user["password"]}, timeout=20)
    assert token.status_code == 200, token.text
    with httpx.Client(base_url=live_app, timeout=20,
                      headers={"Authorization": f"Bearer {token.json()['access_token']}"}) as api:
        customers = api.get("/api/v1/customers", params={"phone": phone_e164}).json()
        assert customers["total"] == 1, customers  # the caller was matched, not created again
        customer = customers["items"][0]
        assert customer["name"] == name

        bookings = api.get("/api/v1/bookings", params={"customer_id": customer["id"]}).json()
        assert bookings["total"] == 2, bookings
        by_service = {b["service"]: b for b in bookings["items"]}
        manual, by_agent = by_service["Boiler inspection"], by_service["Boiler service"]
        assert datetime.fromisoformat(manual["starts_at"]) == datetime(
            manual_day.year, manual_day.month, manual_day.day, 14, 0, tzinfo=timezone.utc)
        assert manual["source"] != "ai_call" and manual["conversation_id"] is None
        assert datetime.fromisoformat(by_agent["starts_at"]) == datetime(
            agent_day.year, agent_day.month, agent_day.day, 15, 0, tzinfo=timezone.utc)
        assert by_agent["source"] == "ai_call" and by_agent["status"] != "cancelled"

        conversations = api.get("/api/v1/conversations", params={"external_id": f"conv_e2e_flow_{tag}"}).json()
        assert conversations["total"] == 1, conversations
        conversation = conversations["items"][0]
        assert conversation["customer_id"] == customer["id"]
        assert conversation["booking_id"] == by_agent["id"]
        assert by_agent["conversation_id"] == conversation["id"]
        assert conversation["needs_review"] is False

        tickets = api.get("/api/v1/tickets", params={"customer_id": customer["id"]}).json()
        assert [t["title"] for t in tickets["items"]] == [ticket_title]
        assert tickets["items"][0]["status"] == "open" and tickets["items"][0]["priority"] == "high"

        campaigns = [c for c in api.get("/api/v1/campaigns", params={"limit": 100}).json()["items"]
                     if c["name"] == campaign_name]
        assert len(campaigns) == 1 and campaigns[0]["status"] == "completed", campaigns
        calls = api.get(f"/api/v1/campaigns/{campaigns[0]['id']}/calls").json()["items"]
        assert [c["customer_id"] for c in calls] == [customer["id"]]
        assert calls[0]["status"] not in ("pending", "queued", "ringing", "in_progress")
