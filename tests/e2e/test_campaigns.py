"""Campaigns in the browser: create one for the demo customers, run it with the simulated provider and
watch it reach 100% live; pause and resume another. A real worker places the calls. (Toasts are not
asserted: the page state is.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
USER = {"email": "campaigns-e2e@example.com", "password": "amber falcon orchard 77", "name": "Cam Paign"}


# The demo data set's customers only (its tickets and bookings would get in the other browser tests' way).
ADD_DEMO_CUSTOMERS = """
from navaia_app.core.db import session_scope
from navaia_app.customers.models import CustomerIn
from navaia_app.customers.service import create_customer, find_by_phone
from navaia_app.core.validation import normalize_phone
from navaia_app.demo import CUSTOMERS
with session_scope() as session:
    for name, phone, email, zone, dnc in CUSTOMERS:
        if find_by_phone(session=session, phone=normalize_phone(phone)) is None:
            create_customer(session=session, customer_in=CustomerIn(name=name, phone=phone, email=email,
                                                                    timezone=zone, do_not_call=dnc))
"""


@pytest.fixture(scope="module")
def campaign_user(live_app, e2e_database):
    """A signed-up admin (the admin CLI) and the demo customers."""
    env = {**os.environ, "DATABASE_URL": e2e_database, "APP_ENV": "test", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", ADD_DEMO_CUSTOMERS], env=env, check=True, capture_output=True)
    made = subprocess.run([sys.executable, "-m", "navaia_app.cli", "create-user", "--email", USER["email"],
                           "--password", USER["password"], "--name", USER["name"], "--role", "admin"], env=env,
                          capture_output=True, text=True)
    assert made.returncode in (0, 2), made.stderr  # 2: it exists already (a rerun)
    return USER


def _sign_in(page, user):
    page.goto("/login")
    page.fill("#email", user["email"])
    page.fill("#password", user["password"])
    page.click("#login-submit")
    expect(page.locator("#header-user-name")).to_have_text(user["name"])


def _new_campaign(page, name: str, *, calls_per_second: str, attempts: str = "1"):
    page.goto("/campaigns")
    page.click("#new-campaign")
    page.fill("#campaign-name", name)
    page.fill("#campaign-purpose", "a friendly check-in about the yearly service")
    page.fill("#campaign-calling_window_start", "00:00")
    page.fill("#campaign-calling_window_end", "00:00")
    dialog = page.get_by_role("dialog")
    for day in ("Sat", "Sun"):
        dialog.get_by_role("checkbox", name=day).click()
    page.fill("#campaign-calls_per_second", calls_per_second)
    page.fill("#campaign-max_concurrent_calls", "10")
    page.fill("#campaign-max_attempts", attempts)
    expect(page.locator("#audience-preview")).to_contain_text("customers")
    page.click("#campaign-submit")
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"))
    expect(page.locator("#campaign-name")).to_have_text(name)


def test_run_a_campaign_for_the_demo_customers_to_100_percent(page, campaign_user, e2e_worker):
    _sign_in(page, campaign_user)
    _new_campaign(page, "Yearly check-in", calls_per_second="10")
    expect(page.get_by_text("Not run yet")).to_be_visible()
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    # live, without a reload: calls appear, progress climbs to 100% and the campaign completes by itself
    expect(page.locator("#campaign-progress-label")).to_have_text(re.compile(r"^100(\.0)?%$"), timeout=120_000)
    expect(page.get_by_text("Completed").first).to_be_visible()
    expect(page.locator(".count-skipped")).not_to_have_text("0")  # the demo's do-not-call customers
    expect(page.locator(".count-completed")).not_to_have_text("0")
    page.get_by_role("combobox").last.click()  # the calls table, filtered by status
    page.get_by_role("option", name="Skipped").click()
    expect(page.get_by_role("row").filter(has_text="Robert Williams")).to_contain_text("do not call")


def test_pause_and_resume_another_campaign(page, campaign_user, e2e_worker):
    _sign_in(page, campaign_user)
    _new_campaign(page, "Slow reminders", calls_per_second="0.5")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#calls-per-minute")).not_to_contain_text(re.compile(r"^0 "), timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_text("Paused", exact=True)).to_be_visible()
    done_while_paused = page.locator(".count-queued").inner_text()
    page.wait_for_timeout(4000)  # nothing new is dialled while paused
    expect(page.locator(".count-queued")).to_have_text(done_while_paused)
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_text("Running", exact=True)).to_be_visible()
    expect(page.locator(".count-queued")).not_to_have_text(done_while_paused, timeout=30_000)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Cancelled", exact=True).first).to_be_visible()
    # the list shows both campaigns with their states
    page.goto("/campaigns")
    expect(page.get_by_role("row").filter(has_text="Slow reminders")).to_contain_text("Cancelled")
    expect(page.get_by_role("row").filter(has_text="Yearly check-in")).to_contain_text("Completed")
