"""The Integrations page and a customer's erasure, as an admin does them in the browser: register a webhook
endpoint (an internal address is refused with the reason; the secret is shown once), send a test event and
see it in the delivery log, get and revoke a calendar URL, change retention, export and erase a customer.
Fails on any page error, any error toast, and any form field without an accessible name."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.test_tickets_bookings import _customer, api, sign_in, staff  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

ERROR_TOAST = "[data-sonner-toast][data-type='error']"
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(e => e.offsetParent !== null && e.getAttribute('aria-hidden') !== 'true')
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    .map(e => e.outerHTML.slice(0, 120))"""


def _tick(page, label: str) -> None:
    box = page.get_by_label(label)  # a controlled checkbox: its state comes back from the server
    box.click()
    expect(box).to_be_checked()


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _no_trouble(page, errors) -> None:
    assert errors == [], errors
    assert page.locator(ERROR_TOAST).count() == 0, page.locator(ERROR_TOAST).all_inner_texts()
    assert page.evaluate(UNLABELLED) == [], "fields without a label"


def test_webhook_endpoint_calendar_feed_and_retention(page, staff, live_app):
    errors = _watch(page)
    sign_in(page, staff)
    page.goto("/integrations")
    expect(page.get_by_role("heading", name="Outgoing webhooks")).to_be_visible()
    _no_trouble(page, errors)

    page.get_by_label("URL").fill("http://127.0.0.1:8000/hooks")
    _tick(page, "Send ticket.created")
    page.click("#add-endpoint")
    expect(page.get_by_role("alert").filter(has_text="loopback")).to_be_visible()  # SSRF refused, said why

    page.get_by_label("URL").fill("http://93.184.215.14/navaia-e2e")
    page.get_by_label("Description (optional)").fill("CRM")
    expect(page.get_by_label("Send ticket.created")).to_be_checked()  # the choice survived the refusal
    _tick(page, "Send booking.created")
    page.click("#add-endpoint")
    secret = page.get_by_role("textbox", name="Signing secret (shown once)")
    expect(secret).to_have_value(re.compile(r"^whsec_"))
    expect(page.get_by_text("http://93.184.215.14/navaia-e2e")).to_be_visible()

    page.get_by_role("button", name="Send test event to http://93.184.215.14/navaia-e2e").click()
    page.get_by_role("button", name="Delivery log of http://93.184.215.14/navaia-e2e").click()
    log = page.locator("#delivery-log")
    expect(log.get_by_text("endpoint.test")).to_be_visible()
    page.get_by_role("button", name="Pause http://93.184.215.14/navaia-e2e").click()
    expect(page.get_by_text("Paused by an administrator.")).to_be_visible()
    page.get_by_role("button", name="Resume http://93.184.215.14/navaia-e2e").click()

    page.click("#create-feed")
    url = page.get_by_role("textbox", name="Your calendar URL (shown once)")
    expect(url).to_have_value(re.compile(r"/api/calendar/.+\.ics$"))
    feed = url.input_value()
    answer = httpx.get(live_app + feed[feed.index("/api/calendar/"):], timeout=20)
    assert answer.status_code == 200 and answer.text.startswith("BEGIN:VCALENDAR")
    page.get_by_role("button", name="Revoke the calendar URL for Every booking").click()
    expect(page.get_by_role("button", name="Revoke the calendar URL for Every booking")).to_have_count(0)
    assert httpx.get(live_app + feed[feed.index("/api/calendar/"):], timeout=20).status_code == 404

    page.get_by_label("Call recordings (days)").fill("30")
    page.get_by_label("Webhook payloads (days)").fill("")
    page.click("#save-retention")
    expect(page.get_by_label("Call recordings (days)")).to_have_value("30")
    expect(page.get_by_label("Webhook payloads (days)")).to_have_value("")
    _no_trouble(page, errors)


def test_export_and_erase_a_customer(page, staff, api):
    errors = _watch(page)
    customer = _customer(api, "Olwen Pryce-Davies")
    sign_in(page, staff)
    page.goto("/customers")
    page.fill("#customer-search", "Olwen")
    row = page.get_by_role("row").filter(has_text="Olwen Pryce-Davies")
    with page.expect_download() as download:
        row.get_by_role("button", name="Export data").click()
    assert download.value.suggested_filename == f"customer-{customer['id']}-export.zip"
    row.get_by_role("button", name="Erase customer").click()
    page.click("#confirm-erase")
    expect(page.get_by_text("erased: what identified them is gone")).to_be_visible()
    assert api.get(f"/api/v1/customers/{customer['id']}").json()["name"] == "Erased customer"
    _no_trouble(page, errors)
