"""Signed call tokens: what a call is about, carried in its dynamic variables.

An outbound call (a campaign call, "Call now", a booking reminder) carries a token that says
which customer (and, for a reminder, which booking) the call is about. The voice agent's
server tools send it back, and the tools act only on what the token names, never on an id
the model said. The token is an HMAC-SHA256 over a compact JSON payload, keyed by a key
derived from SECRET_KEY (so it cannot be confused with any other use of that key), with an
expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from navaia_app.core.errors import AuthenticationFailed
from navaia_app.core.settings import get_settings

DEFAULT_TTL_SECONDS = 2 * 24 * 3600  # a call is placed, rings and ends well within two days
_PURPOSE = b"navaia.call-token.v1"


def _key() -> bytes:
    secret = get_settings().secret_key.encode()
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_call_token(claims: dict[str, Any], *, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                     now: float | None = None) -> str:
    """A token naming `claims` (e.g. {"customer_id": 7, "booking_id": 3}), valid for `ttl_seconds`.

    Claims must be JSON-serialisable; the key `exp` is reserved.
    """
    if "exp" in claims:
        raise ValueError("'exp' is reserved in call token claims")
    issued = time.time() if now is None else now
    body = json.dumps({**claims, "exp": int(issued + ttl_seconds)}, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(_key(), body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def read_call_token(token: str | None, *, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid token (without `exp`).

    Raises AuthenticationFailed when the token is missing, malformed, forged or expired.
    """
    if not token or not isinstance(token, str) or token.count(".") != 1 or len(token) > 4096:
        raise AuthenticationFailed("missing or malformed call token")
    body_text, mac_text = token.split(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError) as exc:
        raise AuthenticationFailed("malformed call token") from exc
    if not hmac.compare_digest(mac, hmac.new(_key(), body, hashlib.sha256).digest()):
        raise AuthenticationFailed("call token signature does not match")
    try:
        claims = json.loads(body)
    except ValueError as exc:
        raise AuthenticationFailed("malformed call token") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise AuthenticationFailed("malformed call token")
    if claims.pop("exp") < (time.time() if now is None else now):
        raise AuthenticationFailed("call token has expired")
    return claims
