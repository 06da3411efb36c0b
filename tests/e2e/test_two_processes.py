"""Two web processes behind one proxy, as `docker compose up --scale web=2` runs them (Caddyfile).

One PostgreSQL and one Redis of this test's own (tests/support/servers.py), two backend-only web
processes against them (AppProcess: Granian + the app's ASGI factory, what `reflex run --env prod
--backend-only` serves), and in front a small reverse proxy (tests/support/proxy.py) that does what
Caddy does: it serves the exported frontend (`reflex export --frontend-only`, API URL = the proxy) and
forwards /api/*, /_event, /_upload and /ping to one backend, failing over to the other when that one
refuses connections. Chromium then shows that:

- Reflex keeps its state in Redis (REFLEX_REDIS_URL), so the page state outlives the process;
- a bearer token issued by one process is accepted by the other;
- a change made through process B's REST API appears live on a page whose websocket is on process A;
- when process A is SIGKILLed mid-session, the browser reconnects through the proxy to B and the page
  keeps working, signed in, with the same page state (its search), without a reload;
- when A is back and the proxy moves the browser over to it on purpose, the same holds.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import fail_on_error_toasts, watch_error_toasts
from tests.support.proxy import FrontProxy, export_frontend
from tests.support.servers import ROOT, AppProcess, OwnPostgres, OwnRedis, app_env, free_port, postgres_available

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

USER = {"name": "Multi Process", "email": "multi@example.com", "password": "orbit lantern meadow two"}


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "navaia_app.cli", *args], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def deployment(build_lock, tmp_path_factory):
    """Own PostgreSQL + Redis, the frontend exported against the proxy's origin, two web processes, the proxy."""
    if not postgres_available():
        pytest.skip("PostgreSQL server binaries are not installed")
    proxy_port = free_port()
    public_url = f"http://127.0.0.1:{proxy_port}"
    static = export_frontend(public_url)  # under the build lock (fixture above)
    postgres = OwnPostgres().init()
    redis = OwnRedis().start()
    processes: list[AppProcess] = []
    proxy = None
    try:
        env = app_env(postgres.url, redis.url)
        _cli(env, "migrate")
        _cli(env, "create-user", "--email", USER["email"], "--password", USER["password"], "--name", USER["name"],
             "--role", "admin")
        settings = {"ALLOWED_ORIGINS": public_url, "ALLOW_SIGNUP": "false",
                    "MEDIA_DIR": str(tmp_path_factory.mktemp("media"))}
        processes = [AppProcess(postgres.url, redis.url, **settings) for _ in range(2)]
        for process in processes:
            process.wait()
        proxy = FrontProxy([p.url for p in processes], static_root=static, port=proxy_port).start()
        yield {"a": processes[0], "b": processes[1], "proxy": proxy, "redis": redis, "url": public_url}
    finally:
        if proxy is not None:
            proxy.stop()
        for process in processes:
            process.stop()
        redis.remove()
        postgres.remove()


def _token(base_url: str) -> dict[str, str]:
    response = httpx.post(f"{base_url}/api/v1/auth/token", json={"email": USER["email"], "password": USER["password"]},
                          timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _add_customer(base_url: str, auth: dict[str, str], name: str, phone: str) -> None:
    response = httpx.post(f"{base_url}/api/v1/customers", json={"name": name, "phone": phone}, headers=auth,
                          timeout=30)
    assert response.status_code == 201, response.text


def test_a_bearer_token_issued_by_one_process_works_on_the_other(deployment):
    a, b = deployment["a"], deployment["b"]
    auth = _token(a.url)
    assert httpx.get(f"{b.url}/api/v1/customers", headers=auth, timeout=30).status_code == 200
    assert httpx.get(f"{b.url}/api/v1/customers", headers={"Authorization": "Bearer nope"},
                     timeout=30).status_code == 401


def test_a_session_survives_its_web_process_being_killed_and_moved_back(deployment, browser):
    a, b, proxy, redis = deployment["a"], deployment["b"], deployment["proxy"], deployment["redis"]
    auth = _token(b.url)
    _add_customer(a.url, auth, "Zeta Alpha", "+1 212 555 0101")

    context = browser.new_context(base_url=deployment["url"], viewport={"width": 1280, "height": 800})
    toasts = watch_error_toasts(context)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        # Signed in through the proxy, whose active backend is A; a search narrows the list (page state).
        proxy.use(0)
        page.goto("/login")
        page.fill("#email", USER["email"])
        page.fill("#password", USER["password"])
        page.click("#login-submit")
        expect(page.locator("#header-user-name")).to_have_text(USER["name"])
        page.goto("/customers")
        page.fill("#customer-search", "zeta")
        rows = page.get_by_role("row").filter(has_text="Zeta")
        expect(rows).to_have_count(1)
        page.evaluate("window.__same_page = true")  # gone if the page ever reloads
        assert proxy.ws_opened[a.url] >= 1 and proxy.ws_opened[b.url] == 0

        # Reflex keeps this tab's state in our Redis, under the tab's client token.
        client_token = page.evaluate("window.sessionStorage.getItem('token')")
        assert client_token
        import redis as redis_lib

        keys = redis_lib.Redis.from_url(redis.url).keys(f"*{client_token}*")
        assert keys, "no Reflex state in Redis for this tab: is REFLEX_REDIS_URL honoured?"

        # A change made through B's REST API shows up live on the page that A serves.
        _add_customer(b.url, auth, "Zeta Bravo", "+1 212 555 0102")
        _add_customer(b.url, auth, "Other Person", "+1 212 555 0103")
        expect(rows.filter(has_text="Zeta Bravo")).to_have_count(1, timeout=15_000)
        expect(rows).to_have_count(2)
        expect(page.get_by_role("row").filter(has_text="Other Person")).to_have_count(0)

        # A dies without warning; the browser's websocket drops and reconnects through the proxy to B.
        a.kill()
        deadline = time.monotonic() + 45
        while proxy.ws_opened[b.url] == 0:
            assert time.monotonic() < deadline, "the browser did not reconnect to the surviving process"
            page.wait_for_timeout(200)

        # Still live, still filtered by the search typed while on A: the state came from Redis.
        _add_customer(b.url, auth, "Zeta Charlie", "+1 212 555 0104")
        expect(rows.filter(has_text="Zeta Charlie")).to_have_count(1, timeout=20_000)
        expect(rows).to_have_count(3)
        expect(page.get_by_role("row").filter(has_text="Other Person")).to_have_count(0)

        # Still signed in: an authenticated write through the page, now handled by B.
        page.click("#new-customer")
        page.fill("#customer-name", "Zeta Delta")
        page.fill("#customer-phone", "+1 212 555 0105")
        page.click("#customer-submit")
        expect(page.get_by_text("Added Zeta Delta.")).to_be_visible()
        expect(rows).to_have_count(4)
        expect(page.locator("#header-user-name")).to_have_text(USER["name"])
        expect(page).to_have_url(re.compile(r"/customers/?$"))
        assert page.evaluate("window.__same_page === true"), "the page reloaded"
        assert page.evaluate("window.sessionStorage.getItem('token')") == client_token, \
            "the tab was given a new Reflex token, so a new (empty) state"
        found = httpx.get(f"{b.url}/api/v1/customers", params={"q": "Zeta Delta"}, headers=auth, timeout=30)
        assert found.json()["total"] == 1

        # A comes back and the proxy moves everybody over to it on purpose (a deploy, a scale-down of B):
        # the open websocket is closed and the tab reconnects to A, with the same token and state.
        a.start()
        a.wait()
        sockets_on_a = proxy.ws_opened[a.url]
        proxy.use(0)
        deadline = time.monotonic() + 45
        while proxy.ws_opened[a.url] == sockets_on_a:
            assert time.monotonic() < deadline, "the browser did not reconnect to the restarted process"
            page.wait_for_timeout(200)
        _add_customer(b.url, auth, "Zeta Echo", "+1 212 555 0106")
        expect(rows.filter(has_text="Zeta Echo")).to_have_count(1, timeout=20_000)
        expect(rows).to_have_count(5)
        expect(page.get_by_role("row").filter(has_text="Other Person")).to_have_count(0)
        assert page.evaluate("window.__same_page === true"), "the page reloaded"
        assert page.evaluate("window.sessionStorage.getItem('token')") == client_token
    finally:
        context.close()
    fail_on_error_toasts(toasts)
