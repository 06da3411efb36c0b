"""HTTP hardening for every response the app serves (pages, websocket upgrade, /api): security
headers, request size limits and per-client rate limits on the routes that attackers hammer."""

from __future__ import annotations

import hmac
import json
import threading
import time

from navaia_app.core.logging import get_logger

log = get_logger("navaia.security")

MB = 1024 * 1024
# Exact routes first: only the post-call webhook takes hour-long call audio (base64 MP3, ~40 MB); its
# sibling /api/webhooks/elevenlabs/initiation is a small JSON body like every other route.
EXACT_BODY_LIMITS = {
    "/api/webhooks/elevenlabs": 64 * MB,
    "/api/v1/customers/import": 20 * MB,
}
PREFIX_BODY_LIMITS = (
    ("/_upload", 20 * MB),
    ("/api/", 2 * MB),
)
DEFAULT_BODY_LIMIT = 2 * MB
# Routes that the voice agent calls with X-Agent-Tools-Secret: refused here, before FastAPI reads and
# parses a body (it does that before any dependency, so the route's own check would come too late).
TOOLS_PATH_PREFIX = "/api/tools/"
TOOLS_EXACT_PATHS = ("/api/webhooks/elevenlabs/initiation",)

CSP = "; ".join([
    "default-src 'self'",
    # Reflex inlines a bootstrap script and runs server-sent scripts (toasts) with eval; the voice widget
    # loads from ElevenLabs.
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' https://unpkg.com https://*.elevenlabs.io",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "media-src 'self' blob: data:",
    "font-src 'self' data:",
    "connect-src 'self' ws: wss: https://*.elevenlabs.io wss://*.elevenlabs.io https://*.livekit.cloud "
    "wss://*.livekit.cloud",
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
])


def body_limit(path: str) -> int:
    exact = EXACT_BODY_LIMITS.get(path.rstrip("/") or "/")
    if exact is not None:
        return exact
    for prefix, limit in PREFIX_BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


def _tools_secret_refusal(path: str, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
    """(status, detail) when a voice-agent route is called without the right X-Agent-Tools-Secret."""
    if not (path.startswith(TOOLS_PATH_PREFIX) or path.rstrip("/") in TOOLS_EXACT_PATHS):
        return None
    from navaia_app.core.settings import get_settings

    expected = get_settings().agent_tools_secret
    if not expected:
        return 503, "The agent tools are not configured: set AGENT_TOOLS_SECRET."
    given = headers.get(b"x-agent-tools-secret", b"")
    if not given or not hmac.compare_digest(given, expected.encode()):
        log.warning("agent_tool.unauthenticated")
        return 401, "Missing or wrong X-Agent-Tools-Secret."
    return None


class TokenBucket:
    """Per-key token buckets in this process (a burst, then `rate` per second)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 50_000):
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return True, 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.clear()  # bounded memory; losing counts briefly is acceptable
            return False, (1 - tokens) / self.rate


def client_address(peer: str | None, forwarded_for: str | None) -> str:
    """The address a request is counted against (sign-in throttling, rate limits), derived one way for REST,
    webhooks and page events.

    The socket peer, unless it is one of TRUSTED_PROXIES: then X-Forwarded-For is read from the right
    (each proxy appends the address it saw), skipping trusted proxies; the first address no trusted proxy
    vouches for is the client. Nobody else's X-Forwarded-For is believed, so a client cannot choose its key."""
    import ipaddress

    from navaia_app.core.settings import get_settings

    peer = (peer or "").strip() or "unknown"
    trusted = get_settings().trusted_proxy_networks
    if not trusted:
        return peer[:64]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    if not is_trusted(peer):
        return peer[:64]
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    client = peer
    for hop in reversed(hops[-20:]):
        client = hop
        if not is_trusted(hop):
            break
    return client[:64]


def _client(scope) -> str:
    client = scope.get("client")
    forwarded = next((v for k, v in scope.get("headers") or [] if k == b"x-forwarded-for"), b"")
    return client_address(client[0] if client else None, forwarded.decode("latin-1"))


async def _reject(send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    def __init__(self, app, *, hsts: bool, rate_limits: dict[str, TokenBucket]):
        self.app = app
        self.hsts = hsts
        self.rate_limits = rate_limits  # path prefix -> bucket

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        method = scope.get("method", "GET")

        if method == "POST":
            for prefix, bucket in self.rate_limits.items():
                if path.startswith(prefix):
                    ok, wait = bucket.allow(_client(scope))
                    if not ok:
                        log.warning("rate_limited", path=prefix)
                        return await _reject(send, 429, "Too many requests; slow down.",
                                             [(b"retry-after", str(max(1, round(wait))).encode())])
                    break

        headers = dict(scope.get("headers") or [])
        if method == "POST":
            refusal = _tools_secret_refusal(path, headers)
            if refusal is not None:
                return await _reject(send, *refusal)

        limit = body_limit(path)
        length = headers.get(b"content-length")
        # An unreadable Content-Length is left to the server's HTTP parser; the bytes that do arrive are
        # still counted against the limit below, so nothing larger gets through either way.
        if length is not None and length.strip().isdigit():
            if int(length) > limit:
                return await _reject(send, 413, f"The request body is larger than {limit // MB} MB.")

        received = 0
        started = rejected = False

        async def limited_receive():
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer 413 now and tell the app the client left, so it stops reading and writes nothing.
                    if not started and not rejected:
                        rejected = True
                        await _reject(send, 413, f"The request body is larger than {limit // MB} MB.")
                    return {"type": "http.disconnect"}
            return message

        async def send_with_headers(message):
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(), geolocation=(), microphone=(self)"),
                    (b"content-security-policy", CSP.encode()),
                ]
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(k, v) for k, v in extra if k not in present]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except Exception:
            if rejected:  # the app gave up on the disconnected body; the 413 is already sent
                return
            raise
