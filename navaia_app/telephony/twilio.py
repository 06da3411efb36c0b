"""Twilio: outbound calls through the official `twilio` library.

`calls.create` asks Twilio to ring the customer; when someone answers, Twilio fetches TwiML from
/api/webhooks/twilio/voice (which connects the call to the ElevenLabs agent) and reports progress
to /api/webhooks/twilio/status. Both URLs carry the attempt's idempotency key, so a callback can
be matched to its attempt even if the worker died before it stored the CallSid.
TWILIO_API_BASE_URL sends every REST request to another origin (a local stand-in in tests).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.telephony.base import (
    CallRequest,
    CallUpdate,
    ErrorKind,
    PlacedCall,
    PlacementError,
    Reporting,
    register_provider,
)

log = get_logger(__name__)

TWILIO_ORIGIN = "https://api.twilio.com"
RING_TIMEOUT_SECONDS = 30
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
INVALID_NUMBER_CODES = {21211, 21214, 21215, 21216, 21217, 21401, 21407, 21421, 21610, 13224}
AUTH_CODES = {20003, 20005, 20006, 20008}
RATE_LIMIT_CODES = {20429, 14107}

# Twilio's CallStatus -> ours (AnsweredBy decides completed vs voicemail for answered calls).
STATUS_MAP = {"queued": "ringing", "initiated": "ringing", "ringing": "ringing", "in-progress": "in_progress",
              "answered": "in_progress", "completed": "completed", "busy": "busy", "no-answer": "no_answer",
              "failed": "failed", "canceled": "failed"}
MACHINE_ANSWERS = {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
# Asynchronous answering-machine detection: the call goes to the agent at once (nobody waits while detection
# runs) and Twilio reports AnsweredBy to /api/webhooks/twilio/amd; DetectMessageEnd waits for the greeting's end.
MACHINE_DETECTION = "DetectMessageEnd"


class RoutedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending requests for api.twilio.com to the configured origin."""

    def __init__(self, origin: str, **kwargs):
        super().__init__(timeout=kwargs.pop("timeout", 15), **kwargs)
        self.origin = origin.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if self.origin != TWILIO_ORIGIN and parts.hostname and parts.hostname.endswith("twilio.com"):
            url = self.origin + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


_local = threading.local()


def twilio_client() -> Client:
    """One client per thread and configuration (requests sessions are not shared across threads)."""
    settings = get_settings()
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise PlacementError(ErrorKind.AUTH, "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    key = (settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base_url)
    cached = getattr(_local, "client", None)
    if cached is None or cached[0] != key:
        client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                        http_client=RoutedHttpClient(settings.twilio_api_base_url), environment={})
        _local.client = (key, client)
    return _local.client[1]


def callback_url(path: str, idempotency_key: str) -> str:
    """Our webhook URL for `path` (voice or status), carrying the attempt's key."""
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/api/webhooks/twilio/{path}?{urlencode({'attempt': idempotency_key})}"


def placement_error(exc: Exception) -> PlacementError:
    """A Twilio failure as a clear outcome (never a crash)."""
    if isinstance(exc, TwilioRestException):
        code, message = exc.code, (exc.msg or "").strip()
        label = f"Twilio {code}" if code else f"Twilio HTTP {exc.status}"
        if code in INVALID_NUMBER_CODES:
            return PlacementError(ErrorKind.REJECTED, f"invalid number ({label}: {message})")
        if code in RATE_LIMIT_CODES or exc.status == 429:
            return PlacementError(ErrorKind.RATE_LIMITED, f"rate limited ({label}); retrying shortly", retry_after=10)
        if code in AUTH_CODES or exc.status in (401, 403):
            return PlacementError(ErrorKind.AUTH, f"Twilio authentication failed ({label}); check TWILIO_ACCOUNT_SID "
                                          "and TWILIO_AUTH_TOKEN")
        if exc.status >= 500:
            return PlacementError(ErrorKind.UNAVAILABLE, f"Twilio is unavailable ({label}); retrying shortly",
                                  retry_after=30)
        return PlacementError(ErrorKind.FAILED, f"{label}: {message}"[:300])
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ConnectionError) and \
            not isinstance(exc, requests.exceptions.ReadTimeout):
        return PlacementError(ErrorKind.UNAVAILABLE, "Twilio could not be reached; retrying shortly", retry_after=30)
    if isinstance(exc, requests.exceptions.Timeout):
        return PlacementError(ErrorKind.UNKNOWN, "Twilio did not answer in time; checking whether the call was placed")
    if isinstance(exc, PlacementError):
        return exc
    if isinstance(exc, TwilioException):
        return PlacementError(ErrorKind.FAILED, f"Twilio: {exc}"[:300])
    return PlacementError(ErrorKind.UNKNOWN, f"{type(exc).__name__} while placing the call")


def voicemail_twiml(message: str) -> str:
    response = VoiceResponse()
    response.pause(length=1)
    response.say(message[:3000])
    response.hangup()
    return str(response)


def map_status(call_status: str, answered_by: str | None) -> str | None:
    """Twilio's CallStatus (and AnsweredBy) as our status; None for one we ignore."""
    status = STATUS_MAP.get((call_status or "").lower())
    if status in ("in_progress", "completed") and (answered_by or "").lower() in MACHINE_ANSWERS:
        return "voicemail"
    return status


class TwilioProvider:
    """Twilio's REST API; outcomes come by status callbacks (routes in outreach/twilio_webhooks.py)."""

    name = "twilio"
    instant = False
    reports = Reporting.CALLBACKS
    can_find_calls = True
    leaves_voicemail = True
    synthesizes_conversations = False

    @property
    def max_calls_per_second(self) -> float:
        return get_settings().twilio_calls_per_second

    def place_call(self, request: CallRequest) -> PlacedCall:
        settings = get_settings()
        if not settings.twilio_from_number:
            raise PlacementError(ErrorKind.AUTH, "Twilio is not configured: set TWILIO_FROM_NUMBER")
        try:
            call = twilio_client().calls.create(
                to=request.to, from_=settings.twilio_from_number,
                url=callback_url("voice", request.idempotency_key), method="POST",
                status_callback=callback_url("status", request.idempotency_key), status_callback_method="POST",
                status_callback_event=STATUS_EVENTS, timeout=RING_TIMEOUT_SECONDS,
                machine_detection=MACHINE_DETECTION, async_amd="true",
                async_amd_status_callback=callback_url("amd", request.idempotency_key),
                async_amd_status_callback_method="POST",
            )
        except Exception as exc:  # every failure becomes an outcome the dispatcher understands
            raise placement_error(exc) from exc
        return PlacedCall(provider_call_id=call.sid)

    def leave_voicemail(self, provider_call_id: str, message: str) -> None:
        """The live call now plays the message (the machine is recording after its beep), then hangs up."""
        try:
            twilio_client().calls(provider_call_id).update(twiml=voicemail_twiml(message))
        except Exception as exc:
            raise placement_error(exc) from exc

    def hang_up(self, provider_call_id: str, *, answered: bool) -> None:
        try:
            twilio_client().calls(provider_call_id).update(status="completed" if answered else "canceled")
        except Exception as exc:
            raise placement_error(exc) from exc

    def find_call(self, *, idempotency_key: str, to: str, since: datetime) -> PlacedCall | None:
        settings = get_settings()
        try:
            calls = twilio_client().calls.list(to=to, from_=settings.twilio_from_number, limit=20)
        except Exception as exc:
            raise placement_error(exc) from exc
        for call in calls:
            created = call.date_created
            if created is not None and created >= since - timedelta(seconds=10):
                return PlacedCall(provider_call_id=call.sid)
        return None

    def poll_updates(self, attempts: list[Any], now: datetime) -> list[CallUpdate]:
        """For calls whose callbacks never came: ask Twilio where they are."""
        updates = []
        for attempt in attempts:
            try:
                call = twilio_client().calls(attempt.provider_call_id).fetch()
            except Exception as exc:
                log.warning("twilio.poll_failed", provider_call_id=attempt.provider_call_id,
                            error=placement_error(exc).reason)
                continue
            status = map_status(call.status, getattr(call, "answered_by", None))
            if status and status != attempt.status:
                duration = int(call.duration) if call.duration else None
                updates.append(CallUpdate(attempt.provider_call_id, status, at=now, duration_seconds=duration,
                                          detail="canceled" if call.status == "canceled" else None))
        return updates

    def synthesized_conversation(self, **_call: Any) -> dict[str, Any] | None:
        return None  # the real agent sends its own post-call webhook

    def next_event_at(self, provider_call_id: str, placed_at: datetime, status: str) -> datetime | None:
        return None  # Twilio calls back


register_provider(TwilioProvider.name, TwilioProvider)
