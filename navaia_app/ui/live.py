"""The client-side ticker that makes a page live: every few seconds it asks whether its topics changed."""

from __future__ import annotations

import reflex as rx

from navaia_app.auth.state import authenticated
from navaia_app.core.db import session_scope
from navaia_app.core.live import versions


class LiveMixin(rx.State, mixin=True):
    """A page state lists its `_live_topics`; `_changed()` says whether any of them moved since it looked."""

    _live_topics: tuple[str, ...] = ()
    _seen_versions: dict[str, int] = {}

    def _remember_versions(self) -> None:
        with session_scope() as session:
            self._seen_versions = versions(session, self._live_topics)

    def _changed(self) -> bool:
        with session_scope() as session:
            current = versions(session, self._live_topics)
        if current != self._seen_versions:
            self._seen_versions = current
            return True
        return False


class LivePageMixin(LiveMixin, mixin=True):
    """A page state (an AuthState with a `_reload()`): `poll_changes`, which `live_ticker` calls, asks for
    `refresh` when one of its topics changed; a page with more to reload overrides `_refresh`."""

    def _refresh(self) -> None:
        self._reload()

    @rx.event
    def poll_changes(self, _tick: str = ""):
        """A topic changed (another tab, the API, a webhook): `refresh` reloads the page, and checks the
        session itself. Polling reads version numbers only, so it never counts as activity."""
        if self.user_id and self._changed():
            return type(self).refresh

    @rx.event
    @authenticated(touch=False)  # asked for by a timer, not by the person: not activity
    def refresh(self, _tick: str = ""):
        self._refresh()


def live_ticker(handler, interval_ms: int = 2500) -> rx.Component:
    """Calls `handler` every interval while the page is open; nothing runs once the tab is gone."""
    return rx.moment(interval=interval_ms, on_change=handler, display="none", format="X")
