"""Status changes in place, optimistic: the new status shows at once; a refusal rolls it back with a toast.

Shared by the tickets and bookings pages. The page state provides `_show_status(id, status)` (shows
a status wherever the record appears on screen and returns what was shown before), `_reload()`,
`detail_open`, `detail` and `_load_detail(id)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import reflex as rx
from sqlmodel import Session

from navaia_app.auth.state import authenticated
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError


def with_status(items: list, record_id: int, status: str) -> tuple[list, str | None]:
    """`items` (frozen dataclasses with id and status) with the record's status replaced, and its old one."""
    previous = None
    changed = []
    for item in items:
        if item.id == record_id:
            previous = item.status
            item = dataclasses.replace(item, status=status)
        changed.append(item)
    return changed, previous


def change_status_optimistically(state: Any, record_id: int, status: str, *, save: Callable[[Session], Any],
                                 noun: str, labels: dict[str, str]) -> Iterator:
    """The body of a page's `change_status` handler (a generator: `yield from` it)."""
    previous = state._show_status(record_id, status)
    if previous is None or previous == status:
        return
    yield  # the new status is on screen now; the server answers below
    try:
        with session_scope() as session:
            save(session)
    except DomainError as exc:
        state._show_status(record_id, previous)  # roll back what the person saw
        yield rx.toast.error(exc.message)
        return
    state._reload()
    if state.detail_open and state.detail.id == record_id:
        state._load_detail(record_id)
    yield rx.toast.success(f"{noun} #{record_id} is now {labels[status].lower()}.")


def show_in_detail(state: Any, record_id: int, status: str, previous: str | None) -> str | None:
    """The open detail panel shows `status` too when it is this record's; returns what was shown before
    (`previous`, what the rows showed, first)."""
    if state.detail.id == record_id:
        previous = previous or state.detail.status
        state.detail = dataclasses.replace(state.detail, status=status)
    return previous


class OptimisticStatusMixin(rx.State, mixin=True):
    """A page whose records change status in place (see change_status_optimistically). The page state provides
    what that needs, `_save_status(session, record_id, status)` (the service call) and `_status_words()`:
    the record's noun and the status labels, for the toast."""

    @rx.event
    @authenticated
    def change_status(self, record_id: int, status: str):
        noun, labels = self._status_words()
        yield from change_status_optimistically(self, record_id, status, noun=noun, labels=labels,
                                                save=lambda session: self._save_status(session, record_id, status))

    def _save_status(self, session: Session, record_id: int, status: str) -> None:
        raise NotImplementedError

    def _status_words(self) -> tuple[str, dict[str, str]]:
        raise NotImplementedError
