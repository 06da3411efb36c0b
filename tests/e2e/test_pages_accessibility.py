"""Every registered page passes axe-core's WCAG 2.1 A/AA rules (no serious or critical violation): in light and
dark mode, on a 390 px phone, and with each create dialog open. Moderate findings are listed (warning and
test-artifacts/axe-*.txt). Screenshots of every page at 390 px go to test-artifacts/phone-390-{light,dark}/.

Pages come from the app's own registry (tests/e2e/a11y.py: app_pages), so a page added later is checked too;
a page with a route parameter this file does not know fails until one is given in ROUTE_VALUES.
"""

from __future__ import annotations

import re
import uuid
import warnings
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import ARTIFACTS, PHONE, Findings, app_pages, staff  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

DIALOGS = {  # page -> the button that opens its create dialog
    "/customers": "#new-customer",
    "/tickets": "#new-ticket",
    "/bookings": "#new-booking",
    "/campaigns": "#new-campaign",
}


@pytest.fixture(scope="module")
def records(live_app, staff) -> dict[str, int]:
    """Something on every list (badges, actions, a campaign to open), made through the REST API."""
    token = httpx.post(f"{live_app}/api/v1/auth/token", json={"email": staff["email"], "password": staff["password"]},
                       timeout=20).json()["access_token"]
    with httpx.Client(base_url=live_app, timeout=20, headers={"Authorization": f"Bearer {token}"}) as api:
        customer_ids = []
        for name, dnc in (("Evelyn Boyd Granville", False), ("Annie Easley", True)):
            made = api.post("/api/v1/customers", json={
                "name": name, "phone": f"+44 20 7946 {uuid.uuid4().int % 1000:04d}", "do_not_call": dnc,
                "email": f"{name.split()[0].lower()}.{uuid.uuid4().hex[:6]}@example.com"})
            assert made.status_code == 201, made.text
            customer_ids.append(made.json()["id"])
        for title, priority in (("Headset crackles on calls", "high"), ("Invoice copy", "medium"),
                                ("Outage at the front desk", "urgent"), ("Leaflet typo", "low")):
            made = api.post("/api/v1/tickets", json={"title": title, "priority": priority,
                                                      "customer_id": customer_ids[0]})
            assert made.status_code == 201, made.text
        # Far enough ahead to meet no other browser test's slot.
        day = datetime.now(timezone.utc).date() + timedelta(days=75)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        made = api.post("/api/v1/bookings", json={
            "customer_id": customer_ids[0], "service": "Accessibility review", "status": "confirmed",
            "starts_at": datetime(day.year, day.month, day.day, 15, 0, tzinfo=timezone.utc).isoformat()})
        assert made.status_code == 201, made.text
        made = api.post("/api/v1/campaigns", json={"name": "Axe check-in", "purpose": "Ask how the repair went",
                                                    "customer_ids": customer_ids})
        assert made.status_code == 201, made.text
        return {"campaign_id": made.json()["id"]}


ROUTE_VALUES = {"campaign_id": lambda records: records["campaign_id"]}


def _paths(records) -> list[tuple[str, str]]:
    paths = []
    for route, title in app_pages():
        for parameter in re.findall(r"\[([^\]]+)\]", route):
            assert parameter in ROUTE_VALUES, f"{route}: give ROUTE_VALUES a value for [{parameter}]"
            route = route.replace(f"[{parameter}]", str(ROUTE_VALUES[parameter](records)))
        paths.append((route, title))
    return paths


PUBLIC = {"/login", "/register"}


def _sign_in(page, staff) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(staff["email"])
    page.get_by_label("Password").fill(staff["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#header-user-name")).to_have_text(staff["name"])


def _settle(page, path: str, title: str) -> None:
    """The page has drawn its content (signed-in shell and first data) and nothing is still animating."""
    if path not in PUBLIC:
        expect(page.get_by_role("heading", level=1, name=title, exact=True)).to_be_visible()
        expect(page.locator("main .rt-Spinner")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # Radix transitions (toasts, fades) end within 300 ms


def _no_error_toast(page, where: str) -> None:
    toasts = page.locator("[data-sonner-toast][data-type=error]")
    assert toasts.count() == 0, f"{where}: error toast {toasts.first.inner_text()!r}"


def _check_pages(browser, live_app, staff, records, *, name: str, color_scheme: str, viewport: dict,
                 screenshots: bool = False) -> Findings:
    findings = Findings()
    context = browser.new_context(base_url=live_app, viewport=viewport, color_scheme=color_scheme)
    context.set_default_timeout(20_000)
    page = context.new_page()
    shots = ARTIFACTS / f"{name}"
    if screenshots:
        shots.mkdir(parents=True, exist_ok=True)
    try:
        # public pages first (signed out), then the rest signed in
        for path, title in _paths(records):
            if path in PUBLIC:
                page.goto(path)
                _settle(page, path, title)
                findings.add(f"{name} {path}", page)
                if screenshots:
                    page.screenshot(path=str(shots / f"{path.strip('/') or 'dashboard'}.png"), full_page=True)
        _sign_in(page, staff)
        assert page.evaluate("document.documentElement.classList.contains('dark')") == (color_scheme == "dark")
        for path, title in _paths(records):
            if path in PUBLIC:
                continue
            page.goto(path)
            _settle(page, path, title)
            _no_error_toast(page, f"{name} {path}")
            findings.add(f"{name} {path}", page)
            if screenshots:
                slug = path.strip("/").replace("/", "-") or "dashboard"
                page.screenshot(path=str(shots / f"{slug}.png"), full_page=True)
            if path in DIALOGS:
                opener = page.locator(DIALOGS[path])
                opener.click()
                dialog = page.get_by_role("dialog")
                expect(dialog).to_be_visible()
                page.wait_for_timeout(400)
                findings.add(f"{name} {path} dialog", page)
                box = dialog.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5, \
                    f"{name} {path}: the dialog does not fit the screen ({box})"
                if screenshots:
                    page.screenshot(path=str(shots / f"{path.strip('/')}-dialog.png"))
                page.keyboard.press("Escape")
                expect(dialog).to_have_count(0)
                page.wait_for_timeout(300)
                if not page.evaluate("e => document.activeElement === e", opener.element_handle()):
                    findings.blocking.append(f"{name} {path}: focus did not go back to {DIALOGS[path]} "
                                             "when the dialog closed")
    finally:
        context.close()
    return findings


def _verdict(findings: Findings, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.txt").write_text(findings.report() or "no violations\n")
    if findings.other:
        warnings.warn(f"axe, moderate or minor ({name}):\n" + "\n".join(findings.other), stacklevel=1)
    assert not findings.blocking, "axe-core, serious or critical:\n" + "\n".join(findings.blocking)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_every_page_and_dialog_passes_axe_on_a_desktop(browser, live_app, staff, records, color_scheme):
    name = f"desktop-{color_scheme}"
    _verdict(_check_pages(browser, live_app, staff, records, name=name, color_scheme=color_scheme,
                          viewport={"width": 1280, "height": 800}), name)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_every_page_and_dialog_passes_axe_on_a_phone(browser, live_app, staff, records, color_scheme):
    name = f"phone-390-{color_scheme}"
    _verdict(_check_pages(browser, live_app, staff, records, name=name, color_scheme=color_scheme, viewport=PHONE,
                          screenshots=True), name)
