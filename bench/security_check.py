"""Try every finding of issue 10 (the outside security review) against a running production build and print
one line per finding: held or NOT HELD.

    PYTHONPATH=. .venv/bin/python bench/security_check.py

Starts what production runs, on loopback ports of its own: a PostgreSQL cluster and a Redis of its own
(tests/support/servers.py), the database migrated by the CLI, the backend as `reflex run --env prod`
serves it (Granian, the app's ASGI factory) with APP_ENV=prod and a production configuration, and in
front of it tests/support/proxy.py, which does what the Caddyfile does (static pages, security headers,
X-Forwarded-For), with TRUSTED_PROXIES set to the proxy's address. Then it attacks it the way the review
describes, through HTTP and Reflex's websocket only. Exit status 1 when any finding does not hold.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402

from _shared.reflex_client import PageEvents  # noqa: E402
from tests.support.proxy import FrontProxy  # noqa: E402
from tests.support.servers import AppProcess, OwnPostgres, OwnRedis, app_env  # noqa: E402

SECRET_KEY = "security-check-" + "k" * 40
WEBHOOK_SECRET = "security-check-webhook-secret-0123"
TOOLS_SECRET = "security-check-tools-secret-01234"
PUBLIC = "https://navaia.example.test"
PASSWORD = "quiet harbour lantern 42"
ADMIN, AGENT = "owner@example.com", "agent@example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
MB = 1024 * 1024

results: list[tuple[str, bool, str]] = []


def finding(name: str) -> Callable:
    def wrap(check: Callable[[], str]) -> Callable:
        def run() -> None:
            try:
                detail = check()
                results.append((name, True, detail))
            except AssertionError as exc:
                results.append((name, False, str(exc) or "assertion failed"))
            except Exception as exc:  # noqa: BLE001 - a check that breaks does not hold either
                results.append((name, False, f"{type(exc).__name__}: {str(exc)[:200]}"))
            held, detail = results[-1][1], results[-1][2]
            print(f"{'held    ' if held else 'NOT HELD'}  {name}: {detail}", flush=True)
        return run
    return wrap


class Stack:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="navaia-security-"))
        self.pg = OwnPostgres().init()
        self.redis = OwnRedis().start()
        from tests.support import elevenlabs_api

        self._standin = elevenlabs_api.serve()
        self.history = next(self._standin)  # ElevenLabs' conversation history, whose webhooks may get lost
        self.static = self.tmp / "static"
        self.static.mkdir()
        (self.static / "index.html").write_text("<!doctype html><title>Navaia</title>")
        self.env = {"APP_ENV": "prod", "SECRET_KEY": SECRET_KEY, "PUBLIC_BASE_URL": PUBLIC, "ALLOWED_ORIGINS": PUBLIC,
                    "ELEVENLABS_WEBHOOK_SECRET": WEBHOOK_SECRET, "AGENT_TOOLS_SECRET": TOOLS_SECRET,
                    "TRUSTED_PROXIES": "127.0.0.1", "ALLOWED_CALL_COUNTRIES": "US",
                    "MEDIA_DIR": str(self.tmp / "media"), "TELEPHONY_PROVIDER": "simulated",
                    "LOG_LEVEL": "INFO", "REFLEX_REDIS_URL": self.redis.url,
                    "ELEVENLABS_API_BASE_URL": self.history.url, "ELEVENLABS_API_KEY": elevenlabs_api.API_KEY,
                    "ELEVENLABS_AGENT_ID": elevenlabs_api.AGENT_ID, "ELEVENLABS_SYNC_SECONDS": "300"}
        self.cli("migrate")
        self.app = AppProcess(self.pg.url, self.redis.url, **self.env).wait()
        self.proxy = FrontProxy([self.app.url], static_root=self.static).start()

    def cli(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = app_env(self.pg.url, self.redis.url, **{**self.env, **(extra or {})})
        return subprocess.run([sys.executable, "-m", "navaia_app.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    def sql(self, query: str, **params):
        import sqlalchemy as sa

        engine = sa.create_engine(self.pg.url)
        try:
            with engine.begin() as conn:
                return conn.execute(sa.text(query), params).all()
        finally:
            engine.dispose()

    def close(self) -> None:
        self.proxy.stop()
        self.app.stop()
        self.redis.remove()
        self.pg.remove()
        self._standin.close()


def _client(address: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def _token(base: str, email: str, client: httpx.Client | None = None) -> dict[str, str]:
    response = (client or httpx).post(f"{base}/api/v1/auth/token", json={"email": email, "password": PASSWORD},
                                      timeout=60)
    assert response.status_code == 200, f"sign-in of {email}: {response.status_code} {response.text[:200]}"
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _announce_only(url: str, path: str, length: int, headers: dict[str, str], wait: float = 8.0) -> tuple[int, float]:
    host, port = url.removeprefix("http://").split(":")
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
            f"Content-Length: {length}", "Connection: close", *[f"{k}: {v}" for k, v in headers.items()]]
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            answer = sock.recv(4096)
        except TimeoutError:
            return 0, time.monotonic() - started
    return (int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0), time.monotonic() - started


async def _register(base: str, email: str, setup_token: str = "") -> PageEvents:
    page = PageEvents(base, user_agent=FIREFOX)
    await page.connect()
    await page.event(page.handler("AuthState", "register"),
                     {"form_data": {"name": "Someone", "email": email, "password": PASSWORD,
                                    "setup_token": setup_token}}, path="/register")
    await page.close()
    return page


def main() -> int:
    stack = Stack()
    app, proxy = stack.app, stack.proxy
    try:
        @finding("1. the first visitor of a fresh production deployment does not become admin")
        def first_admin() -> str:
            asyncio.run(_register(app.url, "visitor@example.com"))
            asyncio.run(_register(app.url, "guesser@example.com", setup_token="0" * 32))
            assert stack.sql("SELECT count(*) FROM users")[0][0] == 0, "a visitor registered without the setup token"
            logged = re.search(r"register\?setup_token=([0-9a-f]{32})", app.log_tail(200_000))
            assert logged, "no setup link in the server log"

            async def race() -> None:  # two people with the token at the same moment: one admin
                await asyncio.gather(_register(app.url, ADMIN, logged.group(1)),
                                     _register(app.url, "racer@example.com", logged.group(1)))

            asyncio.run(race())
            roles = stack.sql("SELECT role FROM users")
            assert [r for (r,) in roles] == ["admin"], f"users after two simultaneous registrations: {roles}"
            demo = stack.cli("seed-demo")
            assert not stack.sql("SELECT 1 FROM users WHERE email = 'admin@navaia.demo'"), "demo admin seeded in prod"
            return ("no token and a wrong token: nothing created; the logged token: one admin out of two "
                    f"simultaneous registrations; seed-demo in prod: no demo admin ({demo.returncode})")

        first_admin()
        # the remaining checks need people: one more user, an agent, from the CLI (the production way)
        done = stack.cli("create-user", "--email", AGENT, "--password", PASSWORD, "--name", "Agent", "--role", "agent")
        assert done.returncode == 0, done.stderr
        if not stack.sql("SELECT 1 FROM users WHERE email = :e", e=ADMIN):
            stack.cli("create-user", "--email", ADMIN, "--password", PASSWORD, "--name", "Owner", "--role", "admin")

        @finding("2. large unauthenticated bodies are refused on cheap evidence before they are read")
        def large_bodies() -> str:
            stale = {"ElevenLabs-Signature": f"t={int(time.time()) - 7200},v0={'0' * 64}"}
            cases = [("/api/webhooks/elevenlabs", 60 * MB, {}, 401),
                     ("/api/webhooks/elevenlabs", 60 * MB, stale, 401),
                     ("/api/webhooks/elevenlabs", 65 * MB, {"ElevenLabs-Signature": f"t={int(time.time())},v0={'0' * 64}"}, 413),
                     ("/api/webhooks/elevenlabs/initiation", 3 * MB, {"X-Agent-Tools-Secret": TOOLS_SECRET}, 413),
                     ("/api/webhooks/elevenlabs/initiation", 1 * MB, {}, 401),
                     ("/api/tools/lookup-customer", 1 * MB, {"X-Agent-Tools-Secret": "wrong"}, 401)]
            for path, length, headers, status in cases:
                got, seconds = _announce_only(app.url, path, length, headers)
                assert got == status, f"{path} announcing {length // MB} MB: {got or 'waited for the body'}"
            return f"{len(cases)} announced bodies (up to 65 MB, never sent) answered at once with 401/413"

        large_bodies()

        @finding("2. parallel 60 MB bogus post-call bodies leave page events and other requests answering")
        def flood() -> str:
            import multiprocessing

            from body_flood import _flood_process

            async def probe(seconds: float) -> tuple[list[float], list[float]]:
                page = PageEvents(app.url)
                await page.connect()
                handler = page.handler("AuthState", "open_public_page")
                events, health = [], []
                async with httpx.AsyncClient(timeout=30) as http:
                    deadline = time.monotonic() + seconds
                    while time.monotonic() < deadline:
                        started = time.perf_counter()
                        await page.event(handler, {}, path="/login")
                        events.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        assert (await http.get(f"{app.url}/api/health")).status_code == 200
                        health.append(time.perf_counter() - started)
                await page.close()
                return events, health

            alone_events, alone_health = asyncio.run(probe(4))
            context = multiprocessing.get_context("spawn")
            manager = context.Manager()
            stop, shared = manager.Event(), manager.list()
            senders = context.Process(target=_flood_process, args=(app.url, 60, 3, stop, shared))
            senders.start()
            time.sleep(1.5)
            try:
                events, health = asyncio.run(probe(10))
            finally:
                stop.set()
                senders.join(180)
            answers = list(shared)
            manager.shutdown()
            p99 = lambda values: sorted(values)[min(len(values) - 1, int(0.99 * (len(values) - 1) + 0.5))]  # noqa: E731
            assert answers and set(answers) == {401}, f"flood answers: {sorted(set(answers))}"
            assert p99(events) < 2.0 and p99(health) < 2.0, f"p99 page event {p99(events):.2f} s, health {p99(health):.2f} s"
            return (f"3 senders (another process), {len(answers)} x 60 MB refused (401) in ~11 s; meanwhile page "
                    f"events p50 {statistics.median(events) * 1000:.0f} ms p99 {p99(events) * 1000:.0f} ms, /api/health "
                    f"p50 {statistics.median(health) * 1000:.0f} ms p99 {p99(health) * 1000:.0f} ms (n={len(events)}); "
                    f"without the flood p99 {p99(alone_events) * 1000:.0f} / {p99(alone_health) * 1000:.0f} ms")

        flood()

        @finding("3. behind the proxy, one client's failed sign-ins do not lock another")
        def proxy_clients() -> str:
            with _client("127.0.0.2") as a, _client("127.0.0.3") as b:
                codes = [a.post(f"{proxy.url}/api/v1/auth/token", json={"email": f"x{i}@example.com",
                                                                         "password": "wrong password 1"}).status_code
                         for i in range(25)]
                assert 429 in codes, f"client A never throttled: {codes}"
                assert b.post(f"{proxy.url}/api/v1/auth/token", json={"email": AGENT, "password": PASSWORD}
                              ).status_code == 200, "client B is locked by A's failures"
            return f"A throttled after {codes.index(429)} failures; B signs in"

        proxy_clients()

        @finding("3. a direct client cannot choose its address with X-Forwarded-For")
        def forged() -> str:
            with _client("127.0.0.4") as direct:
                codes = [direct.post(f"{app.url}/api/v1/auth/token", headers={"X-Forwarded-For": f"203.0.113.{i}"},
                                     json={"email": f"y{i}@example.com", "password": "wrong password 1"}).status_code
                         for i in range(25)]
            assert 429 in codes, f"rotating X-Forwarded-For escaped the limits: {codes}"
            return f"rotating forged addresses still throttled after {codes.index(429)} attempts (keyed by 127.0.0.4)"

        forged()

        admin, agent = _token(app.url, ADMIN, _client("127.0.0.6")), _token(app.url, AGENT, _client("127.0.0.7"))

        @finding("4. who may spend money: numbers outside ALLOWED_CALL_COUNTRIES are never dialled")
        def countries() -> str:
            made = httpx.post(f"{app.url}/api/v1/customers", headers=admin, timeout=30,
                              json={"name": "Far Away", "phone": "+44 161 496 0321"})
            assert made.status_code == 201, made.text
            rung = httpx.post(f"{app.url}/api/v1/customers/{made.json()['id']}/call", headers=admin, timeout=30)
            assert rung.status_code in (403, 409, 422), f"Call now to a UK number with ALLOWED_CALL_COUNTRIES=US: {rung.status_code}"
            calls = stack.sql("SELECT count(*) FROM campaign_calls WHERE customer_id = :c", c=made.json()["id"])[0][0]
            assert calls == 0, "a call row was made"
            return f"Call now to +44: {rung.status_code} {rung.json().get('detail', '')[:80]!r}"

        countries()

        @finding("4. an agent's token cannot do what the contract reserves for admins")
        def roles() -> str:
            customer = httpx.post(f"{app.url}/api/v1/customers", headers=admin, timeout=30,
                                  json={"name": "Kept", "phone": "+1 415 555 0177"}).json()
            checks = {
                "delete a customer": httpx.delete(f"{app.url}/api/v1/customers/{customer['id']}", headers=agent),
                "export a customer": httpx.get(f"{app.url}/api/v1/customers/{customer['id']}/export", headers=agent),
                "manage webhook endpoints": httpx.post(f"{app.url}/api/v1/webhook-endpoints", headers=agent,
                                                       json={"url": "https://hooks.example.test/x", "events": ["ticket.created"]}),
                "change settings": httpx.put(f"{app.url}/api/v1/settings/reminders", headers=agent, json={"enabled": False}),
            }
            if checks["change settings"].status_code == 404:  # reminders not in this build: the hand-off settings
                checks["change settings"] = httpx.put(f"{app.url}/api/v1/settings/handoff", headers=agent, json={})
            wrong = {name: r.status_code for name, r in checks.items() if r.status_code != 403}
            assert not wrong, f"not 403 for an agent: {wrong}"
            return "403 for " + ", ".join(checks)

        roles()

        @finding("5. the voice agent's lookup tells a stranger nothing about someone else's record")
        def lookup() -> str:
            customer_id = stack.sql("SELECT id FROM customers WHERE name = 'Kept'")[0][0]
            answer = httpx.post(f"{app.url}/api/tools/lookup-customer", headers={"X-Agent-Tools-Secret": TOOLS_SECRET},
                                json={"customer_id": customer_id}, timeout=30)
            text = answer.text
            assert answer.status_code == 200, f"{answer.status_code} {text[:200]}"
            assert "Kept" not in text and "0177" not in text, f"a stranger heard: {text[:200]}"
            return f"customer_id without a call token: {json.loads(text).get('message', '')[:70]!r}"

        lookup()

        @finding("6. pages served by the proxy carry CSP, frame-ancestors, HSTS and nosniff")
        def headers() -> str:
            page = httpx.get(f"{proxy.url}/", timeout=30)
            csp = page.headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, f"CSP: {csp!r}"
            assert page.headers.get("strict-transport-security", "").startswith("max-age="), "no HSTS"
            assert page.headers.get("x-content-type-options") == "nosniff", "no nosniff"
            return "GET / through the proxy: CSP (frame-ancestors 'none'), HSTS, nosniff, X-Frame-Options"

        headers()

        @finding("6. a copied session cookie does not work from another browser")
        def cookie() -> str:
            async def sign_in() -> str:
                page = PageEvents(app.url, user_agent=FIREFOX)
                await page.connect()
                await page.event(page.handler("AuthState", "login"), {"form_data": {"email": AGENT, "password": PASSWORD}},
                                 path="/login")
                await page.close()
                return page.var("session_token") or ""

            token = asyncio.run(sign_in())
            assert token, "no session cookie after signing in"
            url = f"{app.url}/api/v1/conversations/999999/audio"
            same = httpx.get(url, cookies={"navaia_session": token}, headers={"User-Agent": FIREFOX}, timeout=30)
            other = httpx.get(url, cookies={"navaia_session": token}, headers={"User-Agent": "curl/8.5.0"}, timeout=30)
            assert same.status_code == 404, f"own browser: {same.status_code}"
            assert other.status_code == 401, f"another browser with the same cookie: {other.status_code}"
            return "the cookie from the browser that signed in: accepted; the same cookie from curl: 401"

        cookie()

        @finding("7. \"Call now\" twice at the same moment rings once")
        def call_now_twice() -> str:
            customer = httpx.post(f"{app.url}/api/v1/customers", headers=admin, timeout=30,
                                  json={"name": "Twice", "phone": "+1 415 555 0199"}).json()
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                codes = sorted(pool.map(lambda _: httpx.post(f"{app.url}/api/v1/customers/{customer['id']}/call",
                                                             headers=admin, timeout=60).status_code, range(4)))
            rows = stack.sql("SELECT count(*) FROM campaign_calls WHERE customer_id = :c", c=customer["id"])[0][0]
            assert rows == 1, f"{rows} calls for 4 simultaneous requests ({codes})"
            return f"4 simultaneous requests: {codes}, 1 call"

        call_now_twice()

        @finding("backstop: a call whose post-call webhook never came still reaches the inbox, once")
        def backstop() -> str:
            from navaia_app.core.signing import post_signed_event
            from tests.conversations.conftest import ticket_call

            ids = [stack.history.add(ticket_call(f"conv_check_{n}", issue_summary=f"Lost {n}")["data"]) for n in range(2)]
            delivered, lost = stack.history.post_call_webhooks(drop=lambda cid: cid == ids[1])[0], ids[1]
            assert post_signed_event(f"{app.url}/api/webhooks/elevenlabs", delivered, WEBHOOK_SECRET).status_code == 200
            run = subprocess.run(
                [sys.executable, "-c", "from navaia_app.jobs.tasks import sync_elevenlabs_conversations as s; print(s())"],
                cwd=ROOT, env=app_env(stack.pg.url, stack.redis.url, **stack.env), capture_output=True, text=True,
                timeout=120)
            assert run.returncode == 0, run.stderr[-300:]
            stored = [cid for (cid,) in stack.sql("SELECT external_id FROM webhook_events WHERE external_id LIKE 'conv_check_%'")]
            assert sorted(stored) == sorted(ids), f"inbox after the backstop: {stored}"
            late = stack.history.post_call_webhooks(drop=lambda cid: cid != lost)[0]
            again = post_signed_event(f"{app.url}/api/webhooks/elevenlabs", late, WEBHOOK_SECRET)
            assert again.json().get("status") == "duplicate", again.text[:200]
            return (f"2 calls, 1 webhook lost: the backstop run {run.stdout.strip().splitlines()[-1]}; the late "
                    "webhook is a duplicate")

        backstop()

        @finding("8. login failures count atomically")
        def counters() -> str:
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda i: _client(f"127.0.1.{i + 1}").post(
                    f"{app.url}/api/v1/auth/token", json={"email": ADMIN, "password": "wrong password 1"}), range(8)))
            failures = stack.sql("SELECT failures FROM login_throttles WHERE key = :k", k=f"acct:{ADMIN}")[0][0]
            assert failures == 8, f"8 simultaneous failures counted as {failures}"
            return "8 simultaneous failures on one account: 8 counted"

        counters()

        @finding("8. full phone numbers never reach the log, formatted ones included")
        def masking() -> str:
            httpx.get(f"{app.url}/api/v1/customers", headers=admin, params={"q": "+1 415 555 0123"}, timeout=30)
            httpx.post(f"{app.url}/api/v1/customers", headers=admin, timeout=30,
                       json={"name": "Formatted", "phone": "+1 (415) 555-0144"})
            log = app.log_tail(2_000_000)
            for number in ("415 555 0123", "4155550123", "(415) 555-0144", "4155550144", "161 496 0321", "1614960321"):
                assert number not in log, f"{number} in the server log"
            return "searched the server log for 6 spellings of 3 numbers used above: none"

        masking()

        @finding("8. production refuses an unsafe configuration, and make run says so at once")
        def configuration() -> str:
            for extra, reason in (({"PUBLIC_BASE_URL": "http://navaia.example.test"}, "PUBLIC_BASE_URL"),
                                  ({"AGENT_TOOLS_SECRET": ""}, "AGENT_TOOLS_SECRET"),
                                  ({"ELEVENLABS_WEBHOOK_SECRET": ""}, "ELEVENLABS_WEBHOOK_SECRET"),
                                  ({"SECRET_KEY": "short"}, "SECRET_KEY")):
                done = stack.cli("check-config", extra=extra)
                assert done.returncode == 2 and reason in done.stderr, f"{extra}: {done.returncode} {done.stderr[-200:]}"
            env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "prod", "SECRET_KEY": "", "PORT": "1",
                   "DATABASE_URL": stack.pg.url}
            started = time.monotonic()
            done = subprocess.run(["bash", str(ROOT / "scripts/run.sh")], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=120)
            seconds = time.monotonic() - started
            assert done.returncode != 0 and "SECRET_KEY" in done.stderr and seconds < 60, f"make run: {seconds:.0f} s"
            return f"4 unsafe settings refused with the reason; make run (APP_ENV=prod, no key) stopped in {seconds:.1f} s"

        configuration()

        @finding("8. a PostgreSQL server that does not answer fails fast")
        def connect_timeout() -> str:
            # a server that takes the connection and never answers (a hung or firewalled database)
            with socket.socket() as silent:
                silent.bind(("127.0.0.1", 0))
                silent.listen(16)
                port = silent.getsockname()[1]
                code = ("import time\nfrom navaia_app.core.db import engine_for\nstarted = time.monotonic()\n"
                        f"try:\n    engine_for('postgresql+psycopg://u@127.0.0.1:{port}/x').connect()\n"
                        "except Exception as exc:\n    print(type(exc).__name__, round(time.monotonic() - started, 1))\n")
                done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                      timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT),
                                                        "DATABASE_CONNECT_TIMEOUT": "3"})
            error, _, seconds = done.stdout.strip().partition(" ")
            assert error == "OperationalError", done.stdout[-200:] + done.stderr[-300:]
            assert float(seconds) < 10, f"{seconds} s"
            seconds = float(seconds)
            return f"a server that never answers: OperationalError after {seconds:.1f} s (DATABASE_CONNECT_TIMEOUT=3)"

        connect_timeout()

        @finding("8. deployment files: secrets out of the image, compose needs passwords, hadolint clean")
        def deploy_files() -> str:
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                                   str(ROOT / "tests/test_deploy_files.py")], cwd=ROOT, capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, done.stdout[-500:]
            return "tests/test_deploy_files.py: " + done.stdout.strip().splitlines()[-1]

        deploy_files()
    finally:
        stack.close()

    failed = [name for name, held, _ in results if not held]
    print(f"\n{len(results) - len(failed)} of {len(results)} findings held" + (f"; NOT HELD: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
