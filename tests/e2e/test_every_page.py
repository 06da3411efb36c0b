"""Every protected page opens for an admin and for an agent: it stays on its address, shows the shell and
its content, and (the fixtures check it for every browser test) the app logs no exception and the page
shows no error toast. Before, the Campaigns list and a campaign's page greeted everyone with Reflex's
"An error occurred. Contact the website administrator."."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = {
    "admin": {"name": "Grace Hopper", "email": "grace.pages@example.com", "password": "compiler harbor violet",
              "role": "admin"},
    "agent": {"name": "Katherine Johnson", "email": "katherine.pages@example.com",
              "password": "orbit ledger sparrow", "role": "agent"},
}


def _protected_routes() -> list[str]:
    """The routes of every page that checks the session on load, as the app registers them."""
    from navaia_app import navaia_app

    return sorted(route for route, handlers in navaia_app.app._load_events.items()
                  if "require_login" in [h.fn.__name__ for h in handlers])


@pytest.fixture(scope="module")
def people(live_app, e2e_database) -> dict[str, dict[str, str]]:
    env = {**os.environ, "DATABASE_URL": e2e_database, "APP_ENV": "test", "PYTHONPATH": str(ROOT)}
    for person in PEOPLE.values():
        done = subprocess.run(
            [sys.executable, "-m", "navaia_app.cli", "create-user", "--email", person["email"], "--password",
             person["password"], "--name", person["name"], "--role", person["role"]],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 or "already exists" in done.stderr, done.stderr
    return PEOPLE


@pytest.fixture(scope="module")
def campaign_id(live_app, people) -> int:
    admin = people["admin"]
    token = httpx.post(f"{live_app}/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]},
                       timeout=20).json()["access_token"]
    made = httpx.post(f"{live_app}/api/v1/campaigns", json={"name": "Every page check"}, timeout=20,
                      headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201, made.text
    return made.json()["id"]


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_every_protected_page_opens(role, new_context, people, campaign_id):
    person = people[role]
    page = new_context(timezone_id="Europe/Paris").new_page()
    page.goto("/login")
    page.fill("#email", person["email"])
    page.fill("#password", person["password"])
    page.click("#login-submit")
    expect(page.locator("#header-user-name")).to_have_text(person["name"])
    routes = _protected_routes()
    assert "campaigns/[campaign_id]" in routes and "index" in routes
    for route in routes:
        path = "/" + route.replace("index", "").replace("[campaign_id]", str(campaign_id))
        page.goto(path)
        expect(page).to_have_url(re.compile(re.escape(path) + r"/?$"))
        expect(page.locator("#header-user-name")).to_have_text(person["name"])
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)  # on_load's events answered; a toast would be up by now
        if route == "campaigns/[campaign_id]":
            expect(page.get_by_text("Every page check").first).to_be_visible()
