"""The provider interface: place a call, hang it up, and report what became of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class CallRequest:
    """Everything a provider needs to ring one customer for one attempt."""

    idempotency_key: str
    to: str  # E.164
    campaign_call_id: int
    customer_id: int
    campaign_id: int | None
    customer_name: str
    variables: dict[str, str] = field(default_factory=dict)  # the agent's dynamic variables


@dataclass(frozen=True)
class PlacedCall:
    provider_call_id: str
    external_conversation_id: str | None = None


@dataclass(frozen=True)
class CallUpdate:
    """What a provider says happened to a call: `status` is ringing, in_progress or a final outcome
    (completed, busy, no_answer, failed, voicemail)."""

    provider_call_id: str
    status: str
    at: datetime
    duration_seconds: int | None = None
    detail: str | None = None
    answered_at: datetime | None = None


class PlacementError(Exception):
    """The provider did not take the call. `kind` says what to do about it:

    - rejected: it never will (invalid number): a final "failed", not retried;
    - failed: it failed this time: a "failed" attempt, the retry policy applies;
    - auth: the credentials are wrong: a "failed" attempt, and the campaign pauses;
    - rate_limited / unavailable: nothing was placed; try again after `retry_after` seconds;
    - unknown: we cannot tell whether it rang (a timeout): recovery finds out later.
    """

    KINDS = ("rejected", "failed", "auth", "rate_limited", "unavailable", "unknown")

    def __init__(self, kind: str, reason: str, *, retry_after: float = 5.0):
        if kind not in self.KINDS:
            raise ValueError(kind)
        super().__init__(reason)
        self.kind = kind
        self.reason = reason[:300]
        self.retry_after = retry_after


class Provider(Protocol):
    name: str
    instant: bool  # placing needs no network round trip (placed inline by the dispatcher)
    pollable: bool  # outcomes come from poll_updates() rather than from callbacks

    @property
    def max_calls_per_second(self) -> float: ...

    def place_call(self, request: CallRequest) -> PlacedCall: ...

    def hang_up(self, provider_call_id: str, *, answered: bool) -> None: ...

    def find_call(self, *, idempotency_key: str, to: str, since: datetime) -> PlacedCall | None:
        """After a crash between asking and recording: the call this attempt placed, if any."""
        ...

    def poll_updates(self, attempts: list[Any], now: datetime) -> list[CallUpdate]:
        """Where the given attempts (rows with provider_call_id, status, placed_at) are now."""
        ...


def get_provider(name: str | None = None) -> Provider:
    from navaia_app.core.settings import get_settings

    name = name or get_settings().telephony_provider
    if name == "twilio":
        from navaia_app.telephony.twilio import TwilioProvider

        return TwilioProvider()
    if name == "elevenlabs":
        from navaia_app.telephony.elevenlabs import ElevenLabsProvider

        return ElevenLabsProvider()
    if name == "simulated":
        from navaia_app.telephony.simulated import SimulatedProvider

        return SimulatedProvider()
    raise ValueError(f"unknown telephony provider {name!r}")
