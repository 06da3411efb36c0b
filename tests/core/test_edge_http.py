"""The edge of a real deployment (issue 10, items 2, 3 and 6): the production backend (Granian, as
`reflex run --env prod` serves it) behind tests/support/proxy.py, which does what the Caddyfile does.

- pages served by the proxy carry the security headers (CSP, frame-ancestors, HSTS, nosniff);
- client addresses: behind a trusted proxy each client is keyed by its own address, and a direct client
  cannot pick its key with a forged X-Forwarded-For;
- unauthenticated bodies: refused on cheap evidence (secret header, exact-route limit, stale signature)
  before the body is read. Proved with requests that announce a large body and never send it: the answer
  comes at once, so the server did not wait to read it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from types import SimpleNamespace

import httpx
import pytest

from navaia_app.core.security import CSP
from tests.conftest import DEFAULT_PASSWORD
from tests.support.proxy import FrontProxy, caddy_headers
from tests.support.servers import ROOT, AppProcess, OwnRedis, app_env

WEBHOOK_SECRET = "edge-webhook-secret-0123456789"
TOOLS_SECRET = "edge-tools-secret-0123456789"
USERS = ("a@example.com", "b@example.com")


def _cli(env, *args):
    done = subprocess.run([sys.executable, "-m", "navaia_app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edge")
    static = tmp / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>Navaia</title>")
    database_url = f"sqlite:///{tmp / 'navaia.db'}"
    redis = OwnRedis().start()
    app = proxy = None
    try:
        env = app_env(database_url, redis.url)
        _cli(env, "migrate")
        for email in USERS:
            _cli(env, "create-user", "--email", email, "--password", DEFAULT_PASSWORD, "--name", "Someone")
        # the token bucket out of the way (100/s): the sign-in lock per client (20 failures) is under test
        app = AppProcess(database_url, redis.url, TRUSTED_PROXIES="127.0.0.1", ELEVENLABS_WEBHOOK_SECRET=WEBHOOK_SECRET,
                         AGENT_TOOLS_SECRET=TOOLS_SECRET, RATE_LIMIT_TOKEN_PER_MINUTE="6000",
                         MEDIA_DIR=str(tmp / "media")).wait()
        proxy = FrontProxy([app.url], static_root=static).start()
        yield SimpleNamespace(app=app, proxy=proxy)
    finally:
        if proxy is not None:
            proxy.stop()
        if app is not None:
            app.stop()
        redis.remove()


def _from(address: str) -> httpx.Client:
    """A client whose connections come from `address` (another loopback address: another machine)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def _sign_in(client: httpx.Client, base: str, email: str, password: str, **headers) -> int:
    return client.post(f"{base}/api/v1/auth/token", json={"email": email, "password": password},
                       headers=headers).status_code


# --- security headers ------------------------------------------------------------------------------


def test_pages_served_by_the_proxy_carry_security_headers(edge):
    response = httpx.get(f"{edge.proxy.url}/", timeout=30)
    assert response.status_code == 200 and "<title>Navaia</title>" in response.text
    assert response.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    # /api answers keep the backend's own headers, once each
    api = httpx.get(f"{edge.proxy.url}/api/health", timeout=30)
    assert api.headers.get_list("content-security-policy") == [CSP]


def test_the_caddyfile_sends_the_backend_policy_word_for_word():
    rules = {name: value for name, value, _ in caddy_headers()}
    assert rules["Content-Security-Policy"] == CSP
    assert {"Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"} <= set(rules)


# --- client addresses ------------------------------------------------------------------------------


def test_behind_the_proxy_one_client_s_failures_do_not_lock_another(edge):
    base = edge.proxy.url
    with _from("127.0.0.2") as a, _from("127.0.0.3") as b:
        # 20 failures on 20 different accounts: only the per-client lock can trip
        codes = [_sign_in(a, base, f"nobody{i}@example.com", "wrong password 1") for i in range(21)]
        assert codes[:20] == [401] * 20 and codes[20] == 429, codes
        assert _sign_in(a, base, USERS[0], DEFAULT_PASSWORD) == 429  # A is locked, even with the right password
        assert _sign_in(b, base, USERS[1], DEFAULT_PASSWORD) == 200  # B is not


def test_a_direct_client_is_keyed_by_its_socket_address_whatever_it_forwards(edge):
    base = edge.app.url
    with _from("127.0.0.4") as direct, _from("127.0.0.5") as other:
        codes = [_sign_in(direct, base, f"someone{i}@example.com", "wrong password 1",
                          **{"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(21)]
        assert codes[:20] == [401] * 20 and codes[20] == 429, codes
        # the forged addresses were not locked: a client really coming through the proxy with one is fine
        with _from("127.0.0.1") as via_proxy_address:
            assert _sign_in(via_proxy_address, base, USERS[0], DEFAULT_PASSWORD,
                            **{"X-Forwarded-For": "203.0.113.1"}) == 200
        assert _sign_in(other, base, USERS[1], DEFAULT_PASSWORD) == 200


# --- large unauthenticated bodies ------------------------------------------------------------------


def _announce_only(url: str, path: str, length: int, headers: dict[str, str], wait: float = 8.0) -> tuple[int, float]:
    """POST that announces `length` bytes and sends none: (status, seconds to the answer); status 0 when the
    server waited for the body instead of answering."""
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
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, time.monotonic() - started


MB = 1024 * 1024


@pytest.mark.parametrize(("path", "length", "headers", "status"), [
    # the initiation webhook is not the 64 MB post-call route: 2 MB like every JSON route
    ("/api/webhooks/elevenlabs/initiation", 3 * MB, {"X-Agent-Tools-Secret": TOOLS_SECRET}, 413),
    # no tools secret: refused before FastAPI reads and parses the body
    ("/api/webhooks/elevenlabs/initiation", 1 * MB, {}, 401),
    ("/api/tools/lookup-customer", 1 * MB, {"X-Agent-Tools-Secret": "wrong"}, 401),
    # post-call: no signature, a stale one, a malformed one: refused before 60 MB is read
    ("/api/webhooks/elevenlabs", 60 * MB, {}, 401),
    ("/api/webhooks/elevenlabs", 60 * MB, {"ElevenLabs-Signature": f"t={int(time.time()) - 7200},v0={'0' * 64}"}, 401),
    ("/api/webhooks/elevenlabs", 60 * MB, {"ElevenLabs-Signature": "t=now,v0=zz"}, 401),
    ("/api/webhooks/elevenlabs", 65 * MB, {"ElevenLabs-Signature": f"t={int(time.time())},v0={'0' * 64}"}, 413),
])
def test_cheap_checks_come_before_reading_a_large_body(edge, path, length, headers, status):
    got, seconds = _announce_only(edge.app.url, path, length, headers)
    assert got == status, f"{path}: {got or 'no answer'} after {seconds:.1f} s"


def test_a_bogus_large_post_call_body_is_read_and_refused(edge):
    body = b'{"type": "post_call_audio", "data": {"full_audio": "' + b"A" * (20 * MB) + b'"}}'
    response = httpx.post(f"{edge.app.url}/api/webhooks/elevenlabs", content=body, timeout=60,
                          headers={"ElevenLabs-Signature": f"t={int(time.time())},v0={'0' * 64}"})
    assert response.status_code == 401
    assert "does not match" in response.json()["detail"]
    assert httpx.get(f"{edge.app.url}/api/health", timeout=10).status_code == 200


# --- the UI's sign-in uses the same derivation -------------------------------------------------------


def test_page_events_derive_the_client_address_the_same_way(set_env):
    from navaia_app.auth.state import AuthState

    def client(peer: str, forwarded: str = "") -> str:
        router = SimpleNamespace(session=SimpleNamespace(client_ip=peer),
                                 headers=SimpleNamespace(raw_headers={"x-forwarded-for": forwarded} if forwarded else {}))
        return AuthState._client(SimpleNamespace(router=router))

    set_env(TRUSTED_PROXIES="")
    assert client("198.51.100.7", "203.0.113.9") == "198.51.100.7"
    set_env(TRUSTED_PROXIES="10.0.0.0/8")
    assert client("10.1.2.3", "203.0.113.9") == "203.0.113.9"  # through the proxy
    assert client("10.1.2.3", "203.0.113.9, 10.9.9.9") == "203.0.113.9"  # two trusted hops
    assert client("10.1.2.3", "6.6.6.6, 203.0.113.9") == "203.0.113.9"  # what the client prepended is ignored
    assert client("198.51.100.7", "203.0.113.9") == "198.51.100.7"  # not through the proxy: forged
