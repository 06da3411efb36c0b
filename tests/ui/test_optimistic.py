"""The optimistic status change shared by the tickets and bookings pages: shown at once, rolled back
with the service's reason when it refuses, reloaded when it accepts."""

from __future__ import annotations

from dataclasses import dataclass

from navaia_app.core.errors import ValidationFailed
from navaia_app.ui.optimistic import change_status_optimistically, with_status


@dataclass(frozen=True)
class Row:
    id: int
    status: str


class FakePage:
    def __init__(self):
        self.rows = [Row(1, "open"), Row(2, "open")]
        self.detail_open, self.detail = True, Row(2, "open")
        self.reloads, self.details = 0, []
        self.shown = []

    def _show_status(self, record_id, status):
        self.shown.append([r.status for r in self.rows])
        self.rows, previous = with_status(self.rows, record_id, status)
        return previous

    def _reload(self):
        self.reloads += 1

    def _load_detail(self, record_id):
        self.details.append(record_id)


def _run(page, record_id, status, save):
    steps = change_status_optimistically(page, record_id, status, save=save, noun="Ticket",
                                         labels={"open": "Open", "resolved": "Resolved"})
    first = next(steps)  # the first step only shows the change
    assert first is None and page.rows[record_id - 1].status == status
    return list(steps)


def test_accepted_change_stays_and_reloads(session):
    saved = []
    page = FakePage()
    events = _run(page, 2, "resolved", save=lambda s: saved.append(s))
    assert len(saved) == 1 and page.rows == [Row(1, "open"), Row(2, "resolved")]
    assert page.reloads == 1 and page.details == [2] and len(events) == 1  # the success toast


def test_refused_change_rolls_back(session):
    def refuse(_session):
        raise ValidationFailed("Cannot move a closed ticket to resolved.")

    page = FakePage()
    events = _run(page, 1, "resolved", save=refuse)
    assert page.rows == [Row(1, "open"), Row(2, "open")] and page.reloads == 0 and len(events) == 1


def test_no_change_does_nothing():
    page = FakePage()
    assert list(change_status_optimistically(page, 1, "open", save=lambda s: 1 / 0, noun="Ticket",
                                             labels={})) == []
    assert list(change_status_optimistically(page, 99, "resolved", save=lambda s: 1 / 0, noun="Ticket",
                                             labels={})) == []
