"""The provider contract: everything the outbound pipeline may rely on, declared here and nowhere else.

A provider is one class with the attributes and methods of `Provider`, registered under a name
with `register_provider(name, factory)`; TELEPHONY_PROVIDER picks it. Nothing else in the code
knows providers by name: the dispatcher reads the capabilities below and honours them.

Capabilities:
- `instant`: placing a call needs no network round trip (the dispatcher places it inline
  instead of on a placing thread);
- `reports`: how outcomes arrive. `Reporting.CALLBACKS`: the provider calls our webhooks (Twilio
  status callbacks, ElevenLabs post-call webhooks) and `poll_updates` is only a backstop for
  callbacks that never came. `Reporting.POLLING`: nothing calls back; the dispatcher asks
  `poll_updates` at the times `next_event_at` names;
- `can_find_calls`: `find_call` can tell which call an idempotency key placed (after a crash
  between asking and recording). Without it an interrupted placement is never retried (ringing
  someone twice is worse than missing a call);
- `leaves_voicemail` (optional, default False): when an answering machine's greeting ends, `leave_voicemail` can play a message on
  the live call (then hang up); without it a machine is hung up on (`hang_up`). Machines are reported
  as a `CallUpdate` with `machine` set (or, for Twilio, by its AMD callback), and outreach/voicemail.py
  decides what to do;
- `synthesizes_conversations`: the provider has no voice agent behind it, so the dispatcher sends
  the post-call webhook an answered call would have produced (the simulated carrier only). A real
  provider leaves this False and never gets made-up conversations.

Failures: `place_call` and `hang_up` raise `PlacementError` with a typed `kind` (`ErrorKind`); the
kind alone decides what happens next (retry, pause, recover), never the text of the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class CallRequest:
    """Everything a provider needs to ring one customer for one attempt."""

    idempotency_key: str
    to: str  # E.164
    campaign_call_id: int
    customer_id: int
    campaign_id: int | None
    customer_name: str
    variables: dict[str, str] = field(default_factory=dict)  # the agent's dynamic variables (with call_token)


@dataclass(frozen=True)
class PlacedCall:
    provider_call_id: str
    external_conversation_id: str | None = None


@dataclass(frozen=True)
class CallUpdate:
    """What a provider says happened to a call: `status` is ringing, in_progress or a final outcome
    (completed, busy, no_answer, failed, voicemail, voicemail_left)."""

    provider_call_id: str
    status: str
    at: datetime
    duration_seconds: int | None = None
    detail: str | None = None
    answered_at: datetime | None = None
    # An answering machine answered and its greeting ended ("machine_end_beep", ...): outreach/voicemail.py
    # turns this into voicemail_left (message left) or voicemail; `status` is then "voicemail".
    machine: str | None = None


class ErrorKind(StrEnum):
    """Why a provider did not take (or could not hang up) a call, and so what to do about it."""

    REJECTED = "rejected"  # it never will (an invalid number): a final "failed", never retried
    FAILED = "failed"  # it failed this time: a "failed" attempt; the retry policy applies
    AUTH = "auth"  # the credentials are wrong or missing: a "failed" attempt, not retried; a campaign pauses
    RATE_LIMITED = "rate_limited"  # nothing was placed; try again after `retry_after` seconds
    UNAVAILABLE = "unavailable"  # nothing was placed (the provider is down); try again after `retry_after`
    UNKNOWN = "unknown"  # we cannot tell whether it rang (a timeout): recovery asks the provider later

    @property
    def nothing_placed(self) -> bool:
        """Nothing rang: the attempt does not count and the call waits a little."""
        return self in (ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE)

    @property
    def retryable(self) -> bool:
        """Whether a call that ended with this error may be tried again (when its policy allows)."""
        return self not in (ErrorKind.REJECTED, ErrorKind.AUTH, ErrorKind.UNKNOWN)


class PlacementError(Exception):
    """The provider did not take the call (or the hang-up). `kind` (an ErrorKind) says what to do;
    `reason` is for people (logs, the call's detail) and is never parsed."""

    KINDS = tuple(kind.value for kind in ErrorKind)

    def __init__(self, kind: ErrorKind | str, reason: str, *, retry_after: float = 5.0):
        try:
            self.kind = ErrorKind(kind)
        except ValueError:
            raise ValueError(f"unknown placement error kind {kind!r}") from None
        super().__init__(reason)
        self.reason = reason[:300]
        self.retry_after = retry_after


class Reporting(StrEnum):
    """How a provider tells us what became of a call."""

    CALLBACKS = "callbacks"
    POLLING = "polling"


@runtime_checkable
class Provider(Protocol):
    name: str
    instant: bool
    reports: Reporting
    can_find_calls: bool
    synthesizes_conversations: bool
    # Optional (absent means False): `leaves_voicemail` and its `leave_voicemail(provider_call_id, message)`,
    # which plays `message` on the answered call, then hangs up, raising PlacementError when it cannot.

    @property
    def max_calls_per_second(self) -> float:
        """The most calls a second the provider accepts (the dispatcher never goes faster)."""
        ...

    def place_call(self, request: CallRequest) -> PlacedCall:
        """Ring `request.to`. The same idempotency key must never ring twice where the provider can
        prevent it. Raises PlacementError (never anything else) when the call was not taken."""
        ...

    def hang_up(self, provider_call_id: str, *, answered: bool) -> None:
        """End a ringing or answered call. Raises PlacementError when it cannot."""
        ...

    def find_call(self, *, idempotency_key: str, to: str, since: datetime) -> PlacedCall | None:
        """After a crash between asking and recording: the call this attempt placed, if any (only
        asked when `can_find_calls`). Raises PlacementError when the provider cannot be asked now."""
        ...

    def poll_updates(self, attempts: list[Any], now: datetime) -> list[CallUpdate]:
        """Where the given attempts (rows with provider_call_id, status, placed_at) are now; only
        the changes. Never raises for one call it cannot ask about (it is left out)."""
        ...

    def next_event_at(self, provider_call_id: str, placed_at: datetime, status: str) -> datetime | None:
        """When to poll this call next (POLLING providers; None: no need). CALLBACKS providers return None."""
        ...

    def synthesized_conversation(self, *, provider_call_id: str, external_conversation_id: str | None, to: str,
                                 placed_at: datetime, duration_seconds: int, variables: dict[str, str],
                                 topic: str) -> dict[str, Any] | None:
        """Only when `synthesizes_conversations`: the post-call webhook body an answered call would have
        produced (the dispatcher signs and sends it to our own webhook). Everyone else returns None."""
        ...

    # Only when `synthesizes_conversations`: `converse(provider_call_id=, variables=)`, what the made-up voice
    # agent does while the answered call lasts (the simulated one uses the agent's tools through our own API,
    # as the real agent does); the dispatcher calls it once the call is reported in progress.


# --- the registry -------------------------------------------------------------------------------------

_FACTORIES: dict[str, Callable[[], Provider]] = {}
_BUILTIN_MODULES = {"twilio": "navaia_app.telephony.twilio", "elevenlabs": "navaia_app.telephony.elevenlabs",
                    "simulated": "navaia_app.telephony.simulated"}


def register_provider(name: str, factory: Callable[[], Provider]) -> None:
    """Make `factory()` the provider called `name` (what TELEPHONY_PROVIDER and attempt rows say).
    Registering a name again replaces it (tests swap in their own)."""
    if not name or len(name) > 20:
        raise ValueError("a provider name is 1 to 20 characters (it is stored on every attempt)")
    _FACTORIES[name] = factory


def unregister_provider(name: str) -> None:
    """Forget a provider registered with `register_provider` (tests clean up with it)."""
    _FACTORIES.pop(name, None)


def provider_names() -> list[str]:
    """Every provider name that `get_provider` accepts."""
    return sorted(set(_FACTORIES) | set(_BUILTIN_MODULES))


def get_provider(name: str | None = None) -> Provider:
    """The provider called `name` (default: TELEPHONY_PROVIDER). Raises ValueError for an unknown name."""
    from navaia_app.core.settings import get_settings

    name = name or get_settings().telephony_provider
    if name not in _FACTORIES and name in _BUILTIN_MODULES:
        import importlib

        importlib.import_module(_BUILTIN_MODULES[name])  # registers itself
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"unknown telephony provider {name!r} (known: {', '.join(provider_names())})")
    return factory()
