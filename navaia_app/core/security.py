"""HTTP hardening for every response the app serves (pages, websocket upgrade, /api): security
headers, request size limits and per-client rate limits on the routes that attackers hammer."""

from __future__ import annotations

import json
import threading
import time

from navaia_app.core.logging import get_logger

log = get_logger("navaia.security")

MB = 1024 * 1024
# Longest prefix first. The ElevenLabs webhook takes hour-long call audio (base64 MP3, ~40 MB).
BODY_LIMITS = (
    ("/api/webhooks/elevenlabs", 64 * MB),
    ("/api/v1/customers/import", 20 * MB),
    ("/_upload", 20 * MB),
    ("/api/", 2 * MB),
)
DEFAULT_BODY_LIMIT = 2 * MB

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
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


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


def _client(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


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

        limit = body_limit(path)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                return await _reject(send, 400, "Content-Length is not a number.")
            if too_big:
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
