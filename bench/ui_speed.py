"""Speed a person feels, in Chromium against the production build: sidebar navigation and opening dialogs.

    PYTHONPATH=. .venv/bin/python bench/ui_speed.py [--big] [--rounds N] [--base-url URL --email E --password P]

Starts `reflex run --env prod` on a free port against a throw-away SQLite database holding `make run`'s demo
data (`--big`: plus 100,000 customers, 100,000 tickets and 100,000 bookings, bulk-loaded as
bench/customers_page.py and bench/tickets_bookings.py do), signs in, and after one untimed (warm-up) round:

- navigation: clicks each sidebar link in turn; timed from the click to the page's heading showing its title
  (what the issue measured: the page on screen), and to the page loaded (its on_load chain answered by the
  backend, `is_hydrated` back to true, and painted: the page's own data of this visit on screen);
- dialogs: the "New ..." button on Customers, Tickets, Bookings and Campaigns; click to the dialog visible.

Times are taken in the page (performance.now() at the click's capture, a MutationObserver for the end), so
Playwright's own round trips are not in them. Prints p50 / p95 / max in ms for each case, and how many
measurements did not end within 15 s (left out of the figures).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from _shared import ROOT, median_p95, quiet_logs, sqlite_database, use_database

NAV = ["Dashboard", "Customers", "Tickets", "Bookings", "Campaigns", "Conversations", "Analytics",
       "Support Agent", "Playground", "Settings"]
DIALOGS = {"Customers": "#new-customer", "Tickets": "#new-ticket", "Bookings": "#new-booking",
           "Campaigns": "#new-campaign"}

# In every page before its scripts: notes when the on_load chain of a navigation has been answered (the
# backend's `is_hydrated: true` delta) and painted (the next animation frame).
LOADED = """(() => {
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (event) => {
      if (String(event.data).includes('"is_hydrated_rx_state_":true'))
        requestAnimationFrame(() => { window.uiSpeedLoaded = performance.now(); });
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();"""

# Installed before a click (as window.uiSpeedWatch, so that installing it does not wait for it): resolves with
# {heading, loaded} or {dialog}: ms from the click to the new page's h1 on screen, to its on_load answered and
# painted, or to a dialog on screen. Measured in the page, so Playwright's own round trips are not in them.
WATCH = """([title, dialog]) => { window.uiSpeedWatch = new Promise(resolve => {
  let clicked = null, heading = null;
  const done = () => {
    if (clicked === null) return;
    const now = performance.now();
    if (dialog) {
      const d = document.querySelector('[role="dialog"]');
      if (d && d.getBoundingClientRect().height > 0) finish({dialog: now - clicked});
      return;
    }
    const h = document.querySelector('h1');
    if (heading === null && h && h.textContent.trim() === title) heading = now - clicked;
    const loaded = (window.uiSpeedLoaded || 0) > clicked ? window.uiSpeedLoaded - clicked : null;
    if (heading !== null && loaded !== null) finish({heading, loaded: Math.max(heading, loaded)});
  };
  const observer = new MutationObserver(done);
  const finish = (result) => { observer.disconnect(); clearInterval(poll); resolve(result); };
  document.addEventListener('click', () => { clicked = performance.now(); requestAnimationFrame(done); },
                            {capture: true, once: true});
  observer.observe(document.documentElement, {childList: true, subtree: true, characterData: true,
                                              attributes: true});
  const poll = setInterval(done, 5);
  setTimeout(() => finish({timeout: true}), 15000);
}); }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, big: bool) -> None:
    from navaia_app.auth.service import create_user
    from navaia_app.core.db import session_scope
    from navaia_app.demo import seed_demo

    use_database(url)
    with session_scope() as session:
        seed_demo(session)
    if big:
        sys.path.insert(0, str(ROOT / "bench"))
        from customers_page import load as load_customers
        from customers_page import make_rows as make_customers
        from tickets_bookings import BOOKING_COLUMNS, TICKET_COLUMNS, _bulk, make_bookings, make_tickets

        started = time.perf_counter()
        load_customers(url, make_customers(100_000))
        with session_scope() as session:
            staff = [create_user(session=session, email=f"staff{n}@example.com", password="quiet harbour lantern 42",
                                 name=f"Staff {n}", role="agent").id for n in range(5)]
        _bulk(url, "tickets", TICKET_COLUMNS, make_tickets(100_000, staff))
        _bulk(url, "bookings", BOOKING_COLUMNS, make_bookings(100_000))
        print(f"bulk load of 100,000 customers, tickets and bookings: {time.perf_counter() - started:.1f} s")


def start_app(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    base = f"http://localhost:{port}"
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test", "PORT": str(port), "PUBLIC_BASE_URL": base,
           "ALLOWED_ORIGINS": base, "REFLEX_USE_NPM": "1", "REFLEX_TELEMETRY_ENABLED": "false",
           "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{os.environ.get('PATH', '')}", "PYTHONPATH": str(ROOT)}
    reflex = shutil.which("reflex", path=str(Path(sys.executable).parent)) or "reflex"
    proc = subprocess.Popen([reflex, "run", "--env", "prod", "--loglevel", "warning"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    import httpx

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/login", timeout=5, follow_redirects=True).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            stop(proc)
            raise SystemExit("the app exited while starting")
        time.sleep(1)
    stop(proc)
    raise SystemExit("the app did not answer within 600 s")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def measure(base: str, email: str, password: str, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import expect, sync_playwright

    chromium = next(p for p in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium") if p and Path(p).exists())
    times: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        context.add_init_script(LOADED)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#header-user-name")).to_be_visible(timeout=30_000)
        nav = page.get_by_role("navigation", name="Main")
        for round_ in range(rounds + 1):  # round 0 warms up and is not counted
            for title in NAV:
                link = nav.get_by_role("link", name=title, exact=False).first
                if not link.count():
                    continue
                page.evaluate(WATCH, [title, False])
                link.click()
                result = page.evaluate("() => window.uiSpeedWatch")
                if round_ and result.get("timeout"):
                    times.setdefault("timed out (15 s)", []).append(0)
                if round_ and not result.get("timeout"):
                    times.setdefault(f"nav {title}: heading", []).append(result["heading"])
                    times.setdefault("nav, all pages: heading", []).append(result["heading"])
                    times.setdefault(f"nav {title}: loaded", []).append(result["loaded"])
                    times.setdefault("nav, all pages: loaded", []).append(result["loaded"])
                if title in DIALOGS:
                    page.wait_for_timeout(300)
                    page.evaluate(WATCH, [title, True])
                    page.locator(DIALOGS[title]).click()
                    result = page.evaluate("() => window.uiSpeedWatch")
                    if round_ and result.get("timeout"):
                        times.setdefault("timed out (15 s)", []).append(0)
                    if round_ and not result.get("timeout"):
                        times.setdefault(f"dialog New ({title})", []).append(result["dialog"])
                    page.keyboard.press("Escape")
                    expect(page.get_by_role("dialog")).to_have_count(0)
                page.wait_for_timeout(200)
        browser.close()
    return times


def report(times: dict[str, list[float]]) -> None:
    print(f"{'case':42} {'n':>4} {'p50':>7} {'p95':>7} {'max':>7}")
    for case in sorted(times, key=lambda c: (not c.startswith("nav, all"), c)):
        values = sorted(times[case])
        median, p95 = median_p95(values)
        print(f"{case:42} {len(values):4d} {median:7.0f} {p95:7.0f} {values[-1]:7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help="add 100,000 customers, tickets and bookings")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base-url", help="measure an app already running there instead")
    parser.add_argument("--email", default="admin@navaia.demo")
    parser.add_argument("--password", default="navaia-demo-2026")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    if args.base_url:
        report(measure(args.base_url, args.email, args.password, args.rounds))
        return
    quiet_logs()
    with sqlite_database() as url:
        seed(url, args.big)
        proc, base = start_app(url)
        try:
            report(measure(base, args.email, args.password, args.rounds))
        finally:
            stop(proc)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
