"""A page's button that runs one service call: the shape every page state shares.

The call runs in one unit of work; a refusal (DomainError) shows its message as an error toast and changes
nothing on screen; otherwise the page refreshes what it shows and says what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError

T = TypeVar("T")


def service_action(work: Callable[[Session], T], *, then: Callable[[], Any] | None = None,
                   done: str | Callable[[T], str] | None = None, toast: Callable = rx.toast.success):
    """Runs `work(session)` in one unit of work and returns what the event handler should return.

    A DomainError: an error toast with its message, and nothing else happens. Otherwise `then()` runs (the
    page reloads what it shows) and `done` (a text, or a function of what `work` returned: read what you need
    of a row inside `work`, the session is closed by then) becomes a `toast`."""
    try:
        with session_scope() as session:
            result = work(session)
    except DomainError as exc:
        return rx.toast.error(exc.message)
    if then is not None:
        then()
    message = done(result) if callable(done) else done
    return toast(message) if message else None
