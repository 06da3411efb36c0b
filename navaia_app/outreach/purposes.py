"""Why a call is made, and the rules that come with it: one `CallPolicy` per purpose.

The pipeline (eligibility, states, dispatcher, provider reports) is the same for every call; what
differs by purpose is asked of its policy: the calling window, the agent's extra variables and
token claims, whether an outcome is retried and when, what happens when the call is over, and
(for campaigns) the lanes the dispatcher paces. A feature adds a purpose by writing a CallPolicy
subclass and calling `register_purpose(policy)` in a module named in POLICY_MODULES (loaded on
first use, like a plugin entry point, so this package never imports the features above it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from navaia_app.core.logging import get_logger

log = get_logger(__name__)

# Modules that register a purpose when imported (the reminders work adds its own here).
POLICY_MODULES: list[str] = ["navaia_app.campaigns.policy", "navaia_app.reminders.policy"]


@dataclass(frozen=True)
class LaneSpec:
    """A group of calls the dispatcher paces together (a running campaign): its calls per second and
    how many may be on the line at once. Calls without a campaign share the one "adhoc" lane."""

    campaign_id: int
    rate: float
    max_concurrent: int


class CallPolicy:
    """The rules of one purpose. This base is the plainest: no window, no retry, nothing to do at the
    end, no lanes of its own (what "Call now" is). Override what differs; every hook runs inside the
    caller's transaction and must not commit."""

    purpose = "call_now"
    cached_models: tuple[type, ...] = ()  # rows the dispatcher may keep across its units (read often)

    def window(self, session: Session, call: Any) -> Any | None:
        """The calling window (campaigns.schedule.CallingWindow-like) this call must ring in; None: any time."""
        return None

    def variables(self, session: Session, call: Any) -> dict[str, str]:
        """Extra dynamic variables for the agent (the pipeline adds the customer, call ids and call_token)."""
        return {}

    def voicemail_message(self, session: Session, call: Any) -> str:
        """The message to leave when an answering machine's greeting ends ({{variables}} as in the call's
        dynamic variables); "": hang up (outreach/voicemail.py)."""
        return ""

    def token_claims(self, session: Session, call: Any) -> dict[str, Any]:
        """Extra claims of the call token (besides customer_id, call_id, purpose; e.g. booking_id)."""
        return dict(call.claims or {})

    def topic(self, session: Session, call: Any) -> str:
        """What the call is about, in words (the simulated conversation talks about it)."""
        return ""

    def retry_at(self, session: Session, call: Any, outcome: str, now: datetime) -> datetime | None:
        """When to try again after `outcome` (None: the outcome stands). Only asked for an outcome
        whose error kind allows retrying."""
        return None

    def on_final(self, session: Session, call: Any, now: datetime, *, batched: bool) -> None:
        """The call is over (final outcome, skipped or cancelled). `batched`: inside a dispatcher slice,
        which checks campaign completion itself at its next refresh."""

    def on_conversation(self, session: Session, call: Any, now: datetime) -> None:
        """The voice agent's conversation was linked to the call (the post-call webhook: before the call's
        final status, or after it, even long after)."""

    def on_auth_failure(self, session: Session, call: Any, reason: str) -> None:
        """The provider refused our credentials while placing this call."""

    def lanes(self, session: Session, now: datetime) -> list[LaneSpec]:
        """The lanes of this purpose that may place calls now."""
        return []

    def before_dispatch(self, session: Session, now: datetime) -> None:
        """Called at every dispatcher refresh and reconcile (start what is due)."""

    def close_lane(self, session: Session, campaign_id: int, now: datetime) -> bool:
        """A lane has nothing due or active: finish it if it is done (True: closed)."""
        return False

    def reconcile(self, session: Session, now: datetime) -> dict[str, Any]:
        """Rebuild this purpose's own state from the tables (periodic; safe to run any time)."""
        return {}


_POLICIES: dict[str, CallPolicy] = {}
_loaded = False


def register_purpose(policy: CallPolicy) -> None:
    """Make `policy` the rules of calls whose `purpose` is `policy.purpose` (registering again replaces)."""
    if not policy.purpose or len(policy.purpose) > 20:
        raise ValueError("a purpose is 1 to 20 characters (it is stored on every call)")
    _POLICIES[policy.purpose] = policy


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in POLICY_MODULES:
        importlib.import_module(module)


def policies() -> list[CallPolicy]:
    """Every registered policy (the built-in modules loaded)."""
    _load()
    return list(_POLICIES.values())


def policy_for(purpose: str | None) -> CallPolicy:
    """The policy of `purpose`; an unknown purpose gets the plain base policy (and a warning), so a call
    is never stuck because its feature is not installed."""
    _load()
    policy = _POLICIES.get(purpose or "")
    if policy is None:
        log.warning("outreach.unknown_purpose", purpose=purpose)
        policy = _POLICIES.setdefault(purpose or "", CallPolicy())
    return policy


register_purpose(CallPolicy())  # "call_now"
