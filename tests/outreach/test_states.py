"""The call and attempt state machine: every allowed move is taken, forbidden ones are refused (and
a late or repeated provider report never raises)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from navaia_app.outreach import states
from navaia_app.outreach.outcomes import ATTEMPT_STATUSES, CALL_STATUSES, FINAL_OUTCOMES


@dataclass
class Row:
    status: str
    id: int = 1
    updated_at: datetime | None = None


ALLOWED_CALL = [(src, dst) for src, targets in states.CALL_TRANSITIONS.items() for dst in sorted(targets)]
ALLOWED_ATTEMPT = [(src, dst) for src, targets in states.ATTEMPT_TRANSITIONS.items() for dst in sorted(targets)]


@pytest.mark.parametrize(("src", "dst"), ALLOWED_CALL)
def test_every_allowed_call_move_is_taken(src, dst):
    call = Row(src)
    assert states.move_call(call, dst, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert call.status == dst and call.updated_at == datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(("src", "dst"), ALLOWED_ATTEMPT)
def test_every_allowed_attempt_move_is_taken(src, dst):
    attempt = Row(src)
    assert states.move_attempt(attempt, dst)
    assert attempt.status == dst


FORBIDDEN_CALL = [
    ("ringing", "queued"), ("in_progress", "ringing"), ("pending", "ringing"), ("pending", "in_progress"),
    ("completed", "pending"), ("completed", "ringing"), ("voicemail_left", "pending"), ("cancelled", "pending"),
    ("skipped", "queued"), ("busy", "completed"), ("in_progress", "queued"), ("in_progress", "cancelled"),
]


@pytest.mark.parametrize(("src", "dst"), FORBIDDEN_CALL)
def test_forbidden_call_moves_are_refused_and_change_nothing(src, dst):
    call = Row(src)
    assert not states.move_call(call, dst)
    assert call.status == src and call.updated_at is None


@pytest.mark.parametrize(("src", "dst"), [("ended", "ringing"), ("in_progress", "ringing"), ("ringing", "placing"),
                                          ("ended", "not_placed"), ("not_placed", "placing")])
def test_forbidden_attempt_moves_are_refused(src, dst):
    attempt = Row(src)
    assert not states.move_attempt(attempt, dst)
    assert attempt.status == src


def test_the_tables_cover_every_status_and_the_terminal_ones_stay_put():
    assert set(states.CALL_TRANSITIONS) == set(CALL_STATUSES)
    assert set(states.ATTEMPT_TRANSITIONS) == set(ATTEMPT_STATUSES)
    assert "voicemail_left" in CALL_STATUSES and "voicemail_left" in FINAL_OUTCOMES
    for status in (*FINAL_OUTCOMES, "skipped", "cancelled"):
        assert states.CALL_TRANSITIONS[status] == frozenset()
        for other in CALL_STATUSES:
            if other != status:
                assert not states.can_move_call(status, other)


def test_every_status_is_reachable_from_a_new_call():
    seen, todo = set(states.INITIAL_CALL_STATUSES), list(states.INITIAL_CALL_STATUSES)
    while todo:
        for nxt in states.CALL_TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(CALL_STATUSES)


def test_a_bulk_move_that_can_never_be_legal_is_a_programming_error():
    assert states.allowed_from("cancelled", "pending", "completed") == ("pending",)
    with pytest.raises(states.IllegalTransition):
        states.allowed_from("queued", "completed", "skipped")


def test_the_same_status_again_is_harmless_but_a_pending_call_can_be_rescheduled():
    call = Row("completed")
    assert states.move_call(call, "completed") and call.updated_at is None
    pending = Row("pending")
    assert states.move_call(pending, "pending") and pending.updated_at is not None
