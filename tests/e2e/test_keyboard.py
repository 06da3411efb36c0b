"""The keyboard alone: sign in, reach Tickets from the sidebar, create a ticket in its dialog (focus stays
inside it, Escape and submit give focus back), move the ticket along and open it, without the mouse; every
stop on the way shows a focus ring."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import staff  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

TITLE = f"Keyboard only: headset crackles {uuid.uuid4().hex[:6]}"


def _focused(page) -> dict:
    return page.evaluate("""() => {
        const e = document.activeElement;
        // Radix draws a text field's focus ring on the field's root, around the input
        const boxed = e?.closest(".rt-TextFieldRoot, .rt-TextAreaRoot") || e;
        const ring = boxed ? getComputedStyle(boxed) : null;
        return {id: e?.id || "", tag: e?.tagName || "", text: (e?.innerText || e?.value || "").trim().slice(0, 80),
                label: e?.getAttribute("aria-label") || "", href: e?.getAttribute("href") || "",
                inDialog: !!e?.closest('[role="dialog"]'), row: e?.closest("tr")?.innerText || "",
                ring: ring ? (ring.outlineStyle !== "none" && parseFloat(ring.outlineWidth) > 0)
                      || ring.boxShadow !== "none" : false};
    }""")


def _tab_to(page, matches, *, limit: int = 60, backwards: bool = False) -> dict:
    """Press Tab until the focused element matches; every stop on the way shows a focus ring."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = _focused(page)
        if focused["tag"] not in ("BODY", ""):
            assert focused["ring"], f"no visible focus on {focused}"
        if matches(focused):
            return focused
    raise AssertionError(f"not reached with {limit} presses of Tab (last: {focused})")


def test_sign_in_create_a_ticket_and_move_it_with_the_keyboard(page, staff):
    page.goto("/login")
    expect(page.get_by_label("Email")).to_be_visible()
    page.wait_for_load_state("networkidle")
    _tab_to(page, lambda f: f["id"] == "email", limit=5)
    page.keyboard.type(staff["email"])
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "password"
    page.keyboard.type(staff["password"])
    page.keyboard.press("Enter")
    expect(page.locator("#header-user-name")).to_have_text(staff["name"])

    # The first stop skips the sidebar; the sidebar's links are next.
    first = _tab_to(page, lambda f: True, limit=1)
    assert first["text"] == "Skip to main content"
    _tab_to(page, lambda f: f["href"].rstrip("/") == "/tickets", limit=15)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/tickets/?$"))
    expect(page.get_by_role("heading", level=1, name="Tickets", exact=True)).to_be_visible()

    _tab_to(page, lambda f: f["id"] == "new-ticket")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    # Escape closes it and focus is back on the button that opened it.
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator("#new-ticket")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    assert _focused(page)["inDialog"]  # focus starts inside the dialog
    _tab_to(page, lambda f: f["id"] == "ticket-title", limit=15)
    page.keyboard.type(TITLE)
    # Tab goes round inside the dialog, never behind it.
    for _ in range(25):
        page.keyboard.press("Tab")
        assert _focused(page)["inDialog"], "focus left the dialog"
    _tab_to(page, lambda f: f["id"] == "ticket-submit")
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.locator("#new-ticket")).to_be_focused()

    # Its status, from the row, with the arrow keys.
    row = page.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_have_count(1)
    status = row.get_by_role("combobox", name="Ticket status")
    expect(status).to_have_text("Open")
    _tab_to(page, lambda f: f["label"] == "Ticket status" and TITLE in f["row"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("option", name="In progress")).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("option", name="In progress")).to_be_focused()
    page.keyboard.press("Enter")
    expect(status).to_have_text("In progress")
    expect(status).to_be_focused()
    # and on to resolved (the only move the workflow allows from there; other tests count "In progress")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("option", name="Resolved")).to_be_focused()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Resolved")

    # And the ticket itself opens from its title with Enter; Escape closes it.
    _tab_to(page, lambda f: f["text"] == TITLE, backwards=True)
    page.keyboard.press("Enter")
    detail = page.locator("#ticket-detail")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text(TITLE)
    page.keyboard.press("Escape")
    expect(detail).to_have_count(0)
    page.reload()
    row = page.get_by_role("row").filter(has_text=TITLE)
    expect(row.get_by_role("combobox", name="Ticket status")).to_have_text("Resolved")
