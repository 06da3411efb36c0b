"""The session idle timeout fires while a tab stays open: what pages run on a timer (the live tickers,
the review badge, the Support Agent and Playground ticks) checks the session without counting as
activity. Before, they all did, every few seconds, so an open tab never went idle."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import pagestate

# The handlers pages call on a timer (rx.moment), and what they call in turn.
POLLERS = {"poll_changes", "refresh", "tick"}


def _timer_handlers() -> set[str]:
    """Handler names passed to a timer anywhere in the app's pages."""
    names = set()
    for path in (Path(__file__).resolve().parents[2] / "navaia_app").rglob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"live_ticker\(\s*\w+\.(\w+)", text))
        for call in re.findall(r"rx\.moment\((.*?)\)", text, re.S):
            names |= set(re.findall(r"on_(?:change|mount)=\w+\.(\w+)", call))
    return names


def test_every_timer_calls_a_polling_handler():
    assert _timer_handlers() and _timer_handlers() <= POLLERS


def _polling_handlers():
    from tests.test_ui_handlers_authenticate import _all_states

    for cls in _all_states():
        for name in sorted(POLLERS & set(cls.event_handlers)):
            yield cls, name


def test_the_polling_handlers_are_found():
    found = {f"{cls.__name__}.{name}" for cls, name in _polling_handlers()}
    assert {"ReviewBadgeState.refresh", "ConversationsState.tick", "SupportAgentState.tick", "PlaygroundState.tick",
            "CustomersState.poll_changes", "CampaignDetailState.refresh"} <= found


def test_polling_does_not_keep_a_session_alive(session, make_user):
    from navaia_app.auth.models import AuthSession
    from navaia_app.core.db import session_scope
    from navaia_app.core.types import utcnow

    user = make_user(email="idle@example.com", role="admin")
    touched = []
    for cls, name in _polling_handlers():
        root = pagestate.signed_in(user)
        with session_scope() as db:  # the person last did something 10 minutes ago
            db.exec(sa.update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=10)))
        with session_scope() as db:
            before = db.exec(sa.select(AuthSession.last_seen_at).order_by(AuthSession.id.desc())).first()[0]
        events = pagestate.run(pagestate.substate(root, cls), name)
        assert pagestate.problems(events) == [], f"{cls.__name__}.{name}"
        with session_scope() as db:
            after = db.exec(sa.select(AuthSession.last_seen_at).order_by(AuthSession.id.desc())).first()[0]
        if after != before:
            touched.append(f"{cls.__name__}.{name}")
    assert touched == []


def test_a_person_acting_still_keeps_the_session_alive(session, make_user):
    """The other side: a real action (here a page load) does count."""
    from navaia_app.auth.models import AuthSession
    from navaia_app.core.db import session_scope
    from navaia_app.core.types import utcnow
    from navaia_app.customers.state import CustomersState

    user = make_user(email="active@example.com", role="admin")
    root = pagestate.signed_in(user)
    with session_scope() as db:
        db.exec(sa.update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=10)))
        before = db.exec(sa.select(AuthSession.last_seen_at)).first()[0]
    pagestate.run(pagestate.substate(root, CustomersState), "load")
    with session_scope() as db:
        after = db.exec(sa.select(AuthSession.last_seen_at)).first()[0]
    assert after > before


@pytest.fixture(autouse=True)
def _app_registered():
    pagestate.app()
