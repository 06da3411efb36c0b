"""Booking reminders in the browser: reminders turned on in their settings page, a booking made, the app's clock
moved on to the reminder's time (TEST_CLOCK_FILE, honoured only under APP_ENV=test), and the reminder's result
appears on the Bookings page that stayed open, without reloading."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import start_worker, stop_group
from tests.e2e.test_tickets_bookings import _customer, api, sign_in, staff  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def test_a_reminders_result_appears_on_the_open_bookings_page(new_context, api, staff, live_app, e2e_database,
                                                            e2e_redis_url, app_clock, tmp_path):
    page = new_context().new_page()
    sign_in(page, staff)

    # A booking at the first free slot an hour or more ahead, on a resource of its own.
    customer = _customer(api, "Grace Hopper", "Europe/London")
    resource = f"reminders-{uuid.uuid4().hex[:6]}"
    now = datetime.now(timezone.utc)
    free = api.get("/api/v1/bookings/availability", params={
        "start": (now + timedelta(hours=1)).isoformat(), "end": (now + timedelta(days=5)).isoformat(),
        "resource": resource}).json()["slots"]
    starts = datetime.fromisoformat(free[0].replace("Z", "+00:00"))
    made = api.post("/api/v1/bookings", json={"customer_id": customer["id"], "service": "Check-up",
                                              "starts_at": starts.isoformat(), "resource": resource})
    assert made.status_code == 201, made.text
    booking_id = made.json()["id"]

    # Reminders on in their settings page: a text due a few minutes from now (a lead time that long before
    # the start; the clock then moves minutes, not days, so the signed-in session stays alive), no call, at
    # any hour of the customer's day.
    lead = int((starts - datetime.now(timezone.utc)).total_seconds() // 60) - 4
    page.goto("/settings/reminders")
    switch = page.locator("#reminders-enabled")
    expect(switch).to_be_visible()
    if switch.get_attribute("aria-checked") != "true":
        switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    for field, value in (("call-lead", ""), ("sms-lead", str(lead)), ("window-start", "00:00"),
                         ("window-end", "23:59")):
        page.fill(f"#reminders-{field}", value)
    page.click("#reminders-save")
    expect(page.get_by_text("Reminder settings saved")).to_be_visible()
    [reminder] = api.get(f"/api/v1/bookings/{booking_id}/reminders").json()["items"]
    due = datetime.fromisoformat(reminder["due_at"].replace("Z", "+00:00"))
    assert (reminder["channel"], reminder["status"]) == ("sms", "planned")
    assert datetime.now(timezone.utc) < due < datetime.now(timezone.utc) + timedelta(minutes=6)

    # The Bookings page, open on the list: the text is planned.
    page.goto("/bookings")
    page.get_by_role("radio", name="List").click()
    row = page.locator(f"#booking-row-{booking_id}")
    expect(row.locator(".booking-reminder")).to_contain_text("Reminder text: planned")

    # The clock moves on to a minute after the text is due; a worker on that clock sends it.
    app_clock.write_text(str((due - datetime.now(timezone.utc)).total_seconds() + 60))
    # A worker on the moved clock: its startup run of the due-reminder job sends what is due by then.
    worker = start_worker(live_app, e2e_database, e2e_redis_url, tmp_path / "worker.log",
                          TEST_CLOCK_FILE=str(app_clock), SMS_PROVIDER="simulated")
    try:
        expect(row.locator(".booking-reminder")).to_contain_text("Reminder text: delivered", timeout=90_000)
    finally:
        stop_group(worker)
        app_clock.unlink(missing_ok=True)  # the other browser tests run on the real clock
    [sent] = api.get(f"/api/v1/bookings/{booking_id}/reminders").json()["items"]
    assert (sent["status"], sent["result"]) == ("sent", "delivered") and sent["sent_at"]
