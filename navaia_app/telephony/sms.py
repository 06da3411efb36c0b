"""Text messages behind one small interface: Twilio Messaging (the official library) and a simulated
provider (no network: for `make run`, demos and tests).

SMS_PROVIDER picks one; by default texts go the way calls go (TELEPHONY_PROVIDER twilio or elevenlabs:
Twilio; simulated: simulated). A send carries the reminder's idempotency key: the simulated provider
derives the message id from it (the same key is the same message), and after a crash between asking and
recording, `find_sent` asks the provider whether that message went out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

from navaia_app.core.settings import get_settings
from navaia_app.telephony.base import PlacementError

MAX_BODY = 1600  # Twilio's limit for one (multi-part) message


@dataclass(frozen=True)
class SmsRequest:
    idempotency_key: str
    to: str  # E.164
    body: str


@dataclass(frozen=True)
class SentSms:
    sid: str
    status: str  # queued, sent, delivered...


class SmsProvider(Protocol):
    name: str

    def send(self, request: SmsRequest) -> SentSms:
        """Raises PlacementError (its kind says whether to try again) when the text was not taken."""
        ...

    def find_sent(self, *, idempotency_key: str, to: str, body: str, since: datetime) -> SentSms | None: ...


def status_callback_url(idempotency_key: str | None = None) -> str:
    base = get_settings().public_base_url.rstrip("/")
    query = f"?{urlencode({'reminder': idempotency_key})}" if idempotency_key else ""
    return f"{base}/api/webhooks/twilio/sms-status{query}"


def sms_provider_name() -> str:
    settings = get_settings()
    if settings.sms_provider:
        return settings.sms_provider
    return "simulated" if settings.telephony_provider == "simulated" else "twilio"


def get_sms_provider(name: str | None = None) -> SmsProvider:
    name = name or sms_provider_name()
    if name == "twilio":
        return TwilioSms()
    if name == "simulated":
        return SimulatedSms()
    raise ValueError(f"unknown SMS provider {name!r}")


class TwilioSms:
    name = "twilio"

    def send(self, request: SmsRequest) -> SentSms:
        from navaia_app.telephony.twilio import placement_error, twilio_client

        sender = get_settings().twilio_from_number
        if not sender:
            raise PlacementError("auth", "Twilio is not configured: set TWILIO_FROM_NUMBER")
        try:
            message = twilio_client().messages.create(
                to=request.to, from_=sender, body=request.body[:MAX_BODY],
                status_callback=status_callback_url(request.idempotency_key))
        except Exception as exc:  # every failure becomes an outcome the caller understands
            raise placement_error(exc) from exc
        return SentSms(sid=message.sid, status=message.status or "queued")

    def find_sent(self, *, idempotency_key: str, to: str, body: str, since: datetime) -> SentSms | None:
        from navaia_app.telephony.twilio import placement_error, twilio_client

        try:
            messages = twilio_client().messages.list(to=to, from_=get_settings().twilio_from_number,
                                                     date_sent_after=since - timedelta(minutes=1), limit=20)
        except Exception as exc:
            raise placement_error(exc) from exc
        for message in messages:
            if (message.body or "").strip() == body[:MAX_BODY].strip():
                return SentSms(sid=message.sid, status=message.status or "sent")
        return None


def simulated_sid(idempotency_key: str) -> str:
    return "SM" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class SimulatedSms:
    """No network: every text is 'delivered' at once; the same key is the same message."""

    name = "simulated"

    def send(self, request: SmsRequest) -> SentSms:
        key = request.idempotency_key or f"reply:{request.to}:{request.body}:{datetime.now().timestamp()}"
        return SentSms(sid=simulated_sid(key), status="delivered")

    def find_sent(self, *, idempotency_key: str, to: str, body: str, since: datetime) -> SentSms | None:
        return SentSms(sid=simulated_sid(idempotency_key), status="delivered")
