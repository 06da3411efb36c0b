"""The state machine of an outbound call and of each of its attempts: the one table of allowed moves.

Every status change of a call or an attempt goes through `move_call` / `move_attempt` (or, for
a conditional bulk UPDATE, through `allowed_from`, which reads the same table). A move the table
does not allow is refused and logged; it never raises into a webhook, since a provider that
reports late or twice must not get a 500 (the report's other facts are still kept).

A call:  pending -> queued -> ringing -> in_progress -> completed | busy | no_answer | failed |
         voicemail | voicemail_left; a final outcome that the call's policy retries goes back to
         pending instead; pending (or queued, before it rings) -> skipped | cancelled.
An attempt: placing -> ringing -> in_progress -> ended; placing -> not_placed (the provider never
         took it; a late callback may still adopt it: not_placed -> ringing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from navaia_app.core.logging import get_logger
from navaia_app.core.types import utcnow
from navaia_app.outreach.outcomes import ATTEMPT_STATUSES, CALL_STATUSES, FINAL_OUTCOMES

log = get_logger(__name__)

_FINAL = frozenset(FINAL_OUTCOMES)

# status -> the statuses it may move to (a status missing on the right is terminal)
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    # claimed; skipped by eligibility; cancelled with its campaign; rescheduled (window, busy customer);
    # an outcome reported for a call whose attempt was never recorded (a webhook before the dispatcher)
    "pending": frozenset({"queued", "skipped", "cancelled", "pending", *_FINAL}),
    # put back (not eligible now, not placed); placed; adopted by a callback; refused by the provider
    "queued": frozenset({"pending", "skipped", "cancelled", "ringing", "in_progress", *_FINAL}),
    "ringing": frozenset({"in_progress", "pending", *_FINAL}),  # pending: a retry is scheduled
    "in_progress": frozenset({"pending", *_FINAL}),
    **{status: frozenset() for status in (*FINAL_OUTCOMES, "skipped", "cancelled")},
}
INITIAL_CALL_STATUSES = ("pending", "skipped")  # what a new call row may start as

ATTEMPT_TRANSITIONS: dict[str, frozenset[str]] = {
    "placing": frozenset({"ringing", "in_progress", "not_placed", "ended"}),
    "not_placed": frozenset({"ringing", "ended"}),  # a late callback adopts it; or its outcome arrives
    "ringing": frozenset({"in_progress", "ended"}),
    "in_progress": frozenset({"ended"}),
    "ended": frozenset(),
}

assert set(CALL_TRANSITIONS) == set(CALL_STATUSES)
assert set(ATTEMPT_TRANSITIONS) == set(ATTEMPT_STATUSES)


class IllegalTransition(ValueError):
    """A status change the state machine does not allow (raised only by `allowed_from`, when code asks
    for a bulk move that can never be legal: a programming error, caught by the tests)."""


def can_move_call(current: str, target: str) -> bool:
    """Whether a call may go from `current` to `target`."""
    return target in CALL_TRANSITIONS.get(current, frozenset())


def can_move_attempt(current: str, target: str) -> bool:
    """Whether an attempt may go from `current` to `target`."""
    return target in ATTEMPT_TRANSITIONS.get(current, frozenset())


def allowed_from(target: str, *candidates: str) -> tuple[str, ...]:
    """The candidate call statuses that may move to `target` (for a conditional bulk UPDATE's WHERE).
    Raises IllegalTransition when none may: that UPDATE could never be right."""
    allowed = tuple(status for status in candidates if can_move_call(status, target))
    if not allowed:
        raise IllegalTransition(f"no call moves from {', '.join(candidates)} to {target}")
    return allowed


def move_call(call: Any, target: str, *, now: datetime | None = None, source: str = "") -> bool:
    """Set `call.status` to `target` if the table allows it (True), else leave it and log (False).
    The same status again is a no-op that counts as done, except for a rescheduled pending call."""
    if call.status == target and target != "pending":
        return True
    return _move(call, target, can_move_call, "call", "campaign_call_id", now=now, source=source)


def move_attempt(attempt: Any, target: str, *, now: datetime | None = None, source: str = "") -> bool:
    """Set `attempt.status` to `target` if the table allows it (True), else leave it and log (False)."""
    if attempt.status == target:
        return True
    return _move(attempt, target, can_move_attempt, "attempt", "attempt_id", now=now, source=source)


def _move(row: Any, target: str, allowed: Callable[[str, str], bool], noun: str, id_key: str, *,
          now: datetime | None, source: str) -> bool:
    current = row.status
    if not allowed(current, target):
        log.warning(f"{noun}.transition_refused", **{id_key: getattr(row, "id", None)}, current=current,
                    target=target, source=source)
        return False
    row.status = target
    row.updated_at = now or utcnow()
    return True
