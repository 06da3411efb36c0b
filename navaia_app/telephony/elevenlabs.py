"""ElevenLabs: its own Twilio outbound-call API (for numbers imported into ElevenLabs), and the
register-call API that hands one of our Twilio calls to the agent. Plain httpx against
ELEVENLABS_API_BASE_URL (another region, or a local stand-in in tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

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

OUTBOUND_CALL_PATH = "/v1/convai/twilio/outbound-call"
REGISTER_CALL_PATH = "/v1/convai/twilio/register-call"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _client() -> httpx.Client:
    settings = get_settings()
    if not settings.elevenlabs_api_key or not settings.elevenlabs_agent_id:
        raise PlacementError(ErrorKind.AUTH, "ElevenLabs is not configured: set ELEVENLABS_API_KEY and ELEVENLABS_AGENT_ID")
    return httpx.Client(base_url=settings.elevenlabs_api_base_url.rstrip("/"), timeout=TIMEOUT,
                        headers={"xi-api-key": settings.elevenlabs_api_key})


def _error(response: httpx.Response) -> PlacementError:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text[:200]
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("status") or str(detail)
    text = f"ElevenLabs HTTP {response.status_code}: {detail}"[:300]
    if response.status_code in (401, 403):
        return PlacementError(ErrorKind.AUTH, f"ElevenLabs authentication failed ({response.status_code}); check "
                                      "ELEVENLABS_API_KEY")
    if response.status_code == 429:
        return PlacementError(ErrorKind.RATE_LIMITED, "rate limited by ElevenLabs; retrying shortly", retry_after=10)
    if response.status_code >= 500:
        return PlacementError(ErrorKind.UNAVAILABLE, text, retry_after=30)
    if response.status_code == 422 and "number" in str(detail).lower():
        return PlacementError(ErrorKind.REJECTED, text)
    return PlacementError(ErrorKind.FAILED, text)


def register_call(*, from_number: str, to_number: str, variables: dict[str, str]) -> str:
    """TwiML that connects an answered Twilio call to the agent, with the call's dynamic variables."""
    settings = get_settings()
    body = {
        "agent_id": settings.elevenlabs_agent_id,
        "from_number": from_number,
        "to_number": to_number,
        "direction": "outbound",
        "conversation_initiation_client_data": {"dynamic_variables": variables},
    }
    try:
        with _client() as client:
            response = client.post(REGISTER_CALL_PATH, json=body)
    except httpx.HTTPError as exc:
        raise PlacementError(ErrorKind.UNAVAILABLE, f"ElevenLabs could not be reached ({type(exc).__name__})") from exc
    if response.status_code >= 400:
        raise _error(response)
    text = response.text
    if "json" in response.headers.get("content-type", ""):
        try:
            text = response.json().get("twiml") or ""
        except ValueError:
            text = ""
    if "<Response" not in text:
        raise PlacementError(ErrorKind.FAILED, "ElevenLabs answered register-call without TwiML")
    return text


class ElevenLabsProvider:
    """ElevenLabs' own Twilio outbound API; outcomes come by its post-call webhooks."""

    name = "elevenlabs"
    instant = False
    reports = Reporting.CALLBACKS
    can_find_calls = False  # no way to ask which call a key placed
    leaves_voicemail = False  # its agent meets machines itself (voicemail_detection); post-call data says how
    synthesizes_conversations = False

    @property
    def max_calls_per_second(self) -> float:
        return get_settings().elevenlabs_calls_per_second

    def place_call(self, request: CallRequest) -> PlacedCall:
        settings = get_settings()
        if not settings.elevenlabs_agent_phone_number_id:
            raise PlacementError(ErrorKind.AUTH, "ElevenLabs is not configured: set ELEVENLABS_AGENT_PHONE_NUMBER_ID")
        body = {
            "agent_id": settings.elevenlabs_agent_id,
            "agent_phone_number_id": settings.elevenlabs_agent_phone_number_id,
            "to_number": request.to,
            "conversation_initiation_client_data": {"dynamic_variables": request.variables},
        }
        try:
            with _client() as client:
                response = client.post(OUTBOUND_CALL_PATH, json=body)
        except httpx.ConnectError as exc:
            raise PlacementError(ErrorKind.UNAVAILABLE, "ElevenLabs could not be reached; retrying shortly",
                                 retry_after=30) from exc
        except httpx.HTTPError as exc:
            raise PlacementError(ErrorKind.UNKNOWN, f"ElevenLabs did not answer in time ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise _error(response)
        try:
            data: dict[str, Any] = response.json()
        except ValueError as exc:
            raise PlacementError(ErrorKind.UNKNOWN, "ElevenLabs answered with something that is not JSON") from exc
        if data.get("success") is False:
            raise PlacementError(ErrorKind.FAILED, f"ElevenLabs refused the call: {data.get('message') or 'no reason'}"[:300])
        conversation_id = data.get("conversation_id")
        sid = data.get("callSid") or data.get("call_sid") or conversation_id
        if not sid:
            raise PlacementError(ErrorKind.UNKNOWN, "ElevenLabs answered without a call id")
        return PlacedCall(provider_call_id=str(sid)[:64], external_conversation_id=conversation_id)

    def leave_voicemail(self, provider_call_id: str, message: str) -> None:
        raise PlacementError(ErrorKind.FAILED, "the ElevenLabs agent leaves voicemail itself")

    def hang_up(self, provider_call_id: str, *, answered: bool) -> None:
        settings = get_settings()
        if settings.twilio_account_sid and settings.twilio_auth_token and provider_call_id.startswith("CA"):
            from navaia_app.telephony.twilio import TwilioProvider

            TwilioProvider().hang_up(provider_call_id, answered=answered)
            return
        raise PlacementError(ErrorKind.FAILED, "ElevenLabs offers no hang-up for this call (set the Twilio credentials "
                                       "of the imported number to allow it)")

    def find_call(self, *, idempotency_key: str, to: str, since: datetime) -> PlacedCall | None:
        return None  # never asked (can_find_calls is False)

    def poll_updates(self, attempts: list[Any], now: datetime) -> list[CallUpdate]:
        return []  # outcomes come through the post-call webhooks

    def synthesized_conversation(self, **_call: Any) -> dict[str, Any] | None:
        return None  # the real agent sends its own post-call webhook

    def next_event_at(self, provider_call_id: str, placed_at: datetime, status: str) -> datetime | None:
        return None


register_provider(ElevenLabsProvider.name, ElevenLabsProvider)
