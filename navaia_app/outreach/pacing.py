"""Pacing: how fast the dispatcher places calls, per lane and per provider, with plain clocks.

A lane is a running campaign (or the shared lane of calls without a campaign: "Call now",
reminders). Each lane has its calls per second and its most concurrent calls; the provider has
its own limit (Twilio: 1 call/s per account by default) that no lane may bend. The clocks are
wall-clock seconds (time.time()), so they survive a hand-over to the next slice in the lease row.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

BURST_SECONDS = 1.0  # a lane behind its schedule (a slice hand-over) catches up at most this much


@dataclass
class Lane:
    """One campaign (or the one-off calls, id None) as the dispatcher paces it."""

    campaign_id: int | None
    rate: float
    max_concurrent: int
    active: int = 0
    pending_due: int = 0
    next_slot: float = 0.0
    candidates: deque = field(default_factory=deque)
    fetched_at: float = 0.0

    @property
    def key(self) -> str:
        """Its name in the pacing clocks kept in the lease ("adhoc" or the campaign id)."""
        return lane_key(self.campaign_id)

    @property
    def wants_to_place(self) -> bool:
        """Calls are due (or may be) and a line is free."""
        return bool(self.candidates or self.pending_due) and self.active < self.max_concurrent

    def slot(self, provider_slot: float) -> float:
        """The earliest wall-clock second its next call may be placed at."""
        return max(self.next_slot, provider_slot)

    def placed(self, wall: float) -> None:
        """A call was placed at `wall`: the next slot is one interval later. A lane a little behind (a
        slice hand-over) catches up, one that was idle starts afresh (no burst)."""
        start = self.next_slot if self.next_slot >= wall - BURST_SECONDS else wall
        self.next_slot = start + 1.0 / self.rate
        self.active += 1
        self.pending_due = max(0, self.pending_due - 1)


def lane_key(campaign_id: int | None) -> str:
    """The lane of a call: its campaign's, or the shared "adhoc" lane."""
    return "adhoc" if campaign_id is None else str(campaign_id)


def next_provider_slot(provider_slot: float, wall: float, rate: float) -> float:
    """The provider's clock after a call placed at `wall`: its limit never bends (no catching up)."""
    return max(provider_slot, wall) + 1.0 / rate
