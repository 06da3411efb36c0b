"""axe-core (bundled by axe-playwright-python, no network) with WCAG 2.1 A and AA rules, and the app's pages."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # git-ignored: screenshots and the axe report of the last run

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OPTIONS = {
    "runOnly": {"type": "tag", "values": TAGS},
    # Tagged wcag21a but marked experimental, so axe skips it unless asked: the shell failed it.
    "rules": {"label-content-name-mismatch": {"enabled": True}},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}

_axe = Axe()


@dataclass
class Findings:
    blocking: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def add(self, where: str, page) -> None:
        results = _axe.run(page, options=OPTIONS).response
        for violation in results["violations"]:
            nodes = violation["nodes"]
            lines = [f"{where}: [{violation['impact']}] {violation['id']} ({len(nodes)} nodes) {violation['help']}"]
            for node in nodes[:5]:
                summary = " ".join((node.get("failureSummary") or "").split())
                lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
            (self.blocking if violation["impact"] in BLOCKING else self.other).append("\n".join(lines))

    def report(self) -> str:
        return "\n".join(self.blocking + self.other)


def app_pages() -> list[tuple[str, str]]:
    """(route, title) of every page the app registers, so a page added tomorrow is checked too."""
    import navaia_app.navaia_app as module

    pages = []
    for route, unevaluated in module.app._unevaluated_pages.items():
        path = "/" if route == "index" else "/" + route.strip("/")
        pages.append((path, str(unevaluated.title or "").split(" · ")[0]))
    return pages


# The same first user test_auth_and_customers.py registers; created here when these files run on their own.
ADMIN = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "orbit lantern meadow"}


@pytest.fixture(scope="module")
def staff(live_app, e2e_database) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": e2e_database, "APP_ENV": "test", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "navaia_app.cli", "create-user", "--email", ADMIN["email"], "--password",
         ADMIN["password"], "--name", ADMIN["name"], "--role", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 or "already exists" in done.stderr, done.stderr
    return ADMIN
