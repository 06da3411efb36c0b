"""What staff do all day: raise a ticket and move it along; book a free slot, fail to double-book, see the calendar."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# The same first user test_auth_and_customers.py registers; created here when this file runs on its own.
ADMIN = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "orbit lantern meadow"}


@pytest.fixture(scope="module")
def staff(live_app, e2e_database) -> dict[str, str]:
    """Ada exists (made with the admin CLI against the app's database if no earlier test registered her)."""
    env = {**os.environ, "DATABASE_URL": e2e_database, "APP_ENV": "test", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "navaia_app.cli", "create-user", "--email", ADMIN["email"], "--password",
         ADMIN["password"], "--name", ADMIN["name"], "--role", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 or "already exists" in done.stderr, done.stderr
    return ADMIN


@pytest.fixture(scope="module")
def api(live_app, staff) -> httpx.Client:
    token = httpx.post(f"{live_app}/api/v1/auth/token", json={"email": staff["email"], "password": staff["password"]},
                       timeout=20)
    assert token.status_code == 200, token.text
    with httpx.Client(base_url=live_app, timeout=20,
                      headers={"Authorization": f"Bearer {token.json()['access_token']}"}) as client:
        yield client


def _customer(api, name: str, timezone_name: str | None = None) -> dict:
    phone = f"+44 20 7946 {uuid.uuid4().int % 1000:04d}"  # Ofcom's range for drama: never a real person
    response = api.post("/api/v1/customers", json={"name": name, "phone": phone, "timezone": timezone_name})
    assert response.status_code == 201, response.text
    return response.json()


def sign_in(page, staff):
    page.goto("/login")
    page.fill("#email", staff["email"])
    page.fill("#password", staff["password"])
    page.click("#login-submit")
    expect(page.locator("#header-user-name")).to_have_text(staff["name"])


def _pick_customer(page, prefix: str, name: str) -> None:
    page.fill(f"#{prefix}-customer-search", name.split()[0])
    page.get_by_role("option", name=re.compile(name)).click()
    expect(page.locator(f"#{prefix}-customer-chosen")).to_contain_text(name)


def test_create_a_ticket_move_it_and_it_stays_after_a_reload(page, staff, api):
    customer = _customer(api, "Katherine Johnson")
    sign_in(page, staff)
    page.goto("/tickets")
    page.click("#new-ticket")
    # Field-level validation: nothing is created without a title.
    page.click("#ticket-submit")
    expect(page.get_by_text("Title is required.")).to_be_visible()
    _pick_customer(page, "ticket", customer["name"])
    page.fill("#ticket-title", "Dishwasher leaks after repair")
    page.fill("#ticket-description", "Water under the door since the pump was replaced.")
    page.click("#ticket-priority")
    page.get_by_role("option", name="High").click()
    page.fill("#ticket-category", "repair")
    page.click("#ticket-submit")
    expect(page.get_by_role("dialog")).to_have_count(0)

    row = page.get_by_role("row").filter(has_text="Dishwasher leaks after repair")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Katherine Johnson")
    expect(row).to_contain_text("High")
    status = row.get_by_role("combobox", name="Ticket status")
    expect(status).to_have_text("Open")
    status.click()
    # The workflow shows only the moves it allows: open -> in progress.
    expect(page.get_by_role("option", name="Resolved")).to_be_disabled()
    page.get_by_role("option", name="In progress").click()
    expect(status).to_have_text("In progress")  # at once, before the server answered
    expect(page.locator("#ticket-tab-in_progress")).to_contain_text("1")  # the server's answer: counts reloaded

    page.reload()
    row = page.get_by_role("row").filter(has_text="Dishwasher leaks after repair")
    expect(row.get_by_role("combobox", name="Ticket status")).to_have_text("In progress")
    expect(page.locator("#ticket-tab-in_progress")).to_contain_text("1")

    # The detail shows the customer and the timeline: who moved it, from what, to what.
    row.get_by_text("Dishwasher leaks after repair").click()
    detail = page.locator("#ticket-detail")
    expect(detail.locator("#ticket-detail-customer")).to_have_text("Katherine Johnson")
    expect(detail.locator("#ticket-timeline")).to_contain_text(
        "Ada Lovelace changed the status from Open to In progress")
    page.fill("#ticket-comment", "Technician booked for Thursday.")
    page.click("#ticket-comment-submit")
    expect(detail.locator("#ticket-timeline")).to_contain_text("Technician booked for Thursday.")
    page.keyboard.press("Escape")

    # A ticket raised elsewhere (here through the REST API) appears without a reload.
    made = api.post("/api/v1/tickets", json={"title": "Raised through the API meanwhile", "priority": "urgent"})
    assert made.status_code == 201, made.text
    expect(page.get_by_role("row").filter(has_text="Raised through the API meanwhile")).to_have_count(1,
                                                                                                       timeout=15_000)


def _slots_label(day: date) -> str:
    return f"Free slots on {day:%A} {day.day} {day:%B}"


def _next_weekday() -> date:
    day = datetime.now(timezone.utc).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_book_a_free_slot_fail_to_double_book_and_see_it_on_the_calendar(new_context, live_app, staff, api):
    customer = _customer(api, "Dorothy Vaughan", "Asia/Tokyo")
    when = _next_weekday()
    day = when.isoformat()
    # The viewer's zone is the browser's: UTC here, so the business's 09:00-17:00 (UTC) reads the same.
    context = new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    page = context.new_page()
    try:
        sign_in(page, staff)
        page.goto("/bookings")
        expect(page.locator("#booking-calendar")).to_be_visible()

        page.click("#new-booking")
        _pick_customer(page, "booking", customer["name"])
        page.fill("#booking-service", "Consultation")
        page.fill("#booking-day", day)
        dialog = page.get_by_role("dialog")
        expect(dialog.locator("#booking-slots-label")).to_have_text(_slots_label(when))
        slot = dialog.get_by_role("button", name="10:00", exact=True)
        expect(slot).to_be_visible()
        slot.click()
        # The customer lives in Tokyo: the dialog says what that time is for them.
        expect(dialog.get_by_text(re.compile(r"That is 19:00 \(JST\)"))).to_be_visible()
        page.click("#booking-submit")
        expect(dialog).to_have_count(0)

        # The slot is gone from the free ones; typing the time anyway is refused with the reason.
        page.click("#new-booking")
        _pick_customer(page, "booking", customer["name"])
        page.fill("#booking-service", "Follow-up")
        page.fill("#booking-day", day)
        expect(dialog.locator("#booking-slots-label")).to_have_text(_slots_label(when))
        expect(dialog.get_by_role("button", name="10:30", exact=True)).to_be_visible()
        expect(dialog.get_by_role("button", name="10:00", exact=True)).to_have_count(0)
        page.fill("#booking-time", "10:00")
        page.click("#booking-submit")
        expect(dialog.get_by_text(re.compile(r"That time overlaps another booking \(Consultation, "))).to_be_visible()
        page.keyboard.press("Escape")

        # The week calendar shows it on its day (other browser tests may have booked that day too: after
        # about 16:00 UTC the reminders test's first free slot is tomorrow's).
        page.fill("#calendar-go-to", day)
        block = page.locator(f"#calendar-day-{day} .calendar-block", has_text=customer["name"])
        expect(block).to_have_count(1)
        expect(block).to_contain_text("10:00–10:30")
        expect(block).to_contain_text("Dorothy Vaughan")
        assert api.get("/api/v1/bookings", params={"customer_id": customer["id"]}).json()["total"] == 1
    finally:
        context.close()
