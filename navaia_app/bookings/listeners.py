"""Who hears of every booking change, inside the same transaction as the change.

A feature built on bookings (the reminders re-plan a booking's reminders) names its module in
LISTENER_MODULES; the module has `booking_changed(*, session, booking, reason, now)` (reason: created,
moved, status or customer) and `booking_deleting(*, session, booking_id, now)`. The modules are loaded on
first use, like outreach's purposes, so bookings never imports the features above it.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlmodel import Session

LISTENER_MODULES: list[str] = ["navaia_app.reminders.planning"]
_loaded: list[ModuleType] = []


def _listeners() -> list[ModuleType]:
    if not _loaded:
        _loaded.extend(importlib.import_module(name) for name in LISTENER_MODULES)
    return _loaded


def changed(*, session: Session, booking: Any, reason: str, now: datetime | None = None) -> None:
    """The booking was created, moved, changed status or customer (not yet committed)."""
    for listener in _listeners():
        listener.booking_changed(session=session, booking=booking, reason=reason, now=now)


def deleting(*, session: Session, booking_id: int, now: datetime | None = None) -> None:
    """The booking is about to be deleted (in this transaction)."""
    for listener in _listeners():
        listener.booking_deleting(session=session, booking_id=booking_id, now=now)
