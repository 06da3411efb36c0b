"""Every Reflex event handler that reaches data checks the user itself (a redirect protects nothing)."""

from __future__ import annotations

import inspect

import pytest


def _all_states():
    import navaia_app.navaia_app  # noqa: F401  (registers every page and its states)
    from navaia_app.auth.state import AuthState

    seen, todo = [], [AuthState]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


# Handlers that establish or end the session themselves.
SESSION_HANDLERS = {"require_login", "open_public_page", "login", "register", "logout"}
DATA_MARKERS = ("session_scope", "service.", "_reload(", "_load_", "redis_available")


def _handlers():
    for cls in _all_states():
        for name, handler in cls.event_handlers.items():
            if name in SESSION_HANDLERS or name.startswith("set_") and cls.__name__ == "AuthState":
                continue
            fn = handler.fn
            yield pytest.param(cls, name, fn, id=f"{cls.__name__}.{name}")


@pytest.mark.parametrize(("cls", "name", "fn"), list(_handlers()))
def test_data_handlers_are_wrapped_in_authenticated(cls, name, fn):
    source = inspect.getsource(inspect.unwrap(fn))
    body = source.split(":", 1)[1] if ":" in source else source
    touches_data = any(marker in body for marker in DATA_MARKERS)
    wrapped = getattr(fn, "checks_user", False)
    if touches_data:
        assert wrapped, f"{cls.__name__}.{name} reaches data without @authenticated"


def test_the_check_really_refuses_without_a_session(monkeypatch, tmp_path):
    """Calling a wrapped handler with no valid session returns the sign-out redirect and runs nothing."""
    from navaia_app.auth import state as auth_state

    calls = []

    class Dummy:
        session_token = "not-a-real-token"

    @auth_state.authenticated
    def handler(self):
        calls.append(1)

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    from navaia_app.core.settings import get_settings

    get_settings.cache_clear()
    from navaia_app.core.db import get_engine
    from navaia_app.models import metadata

    metadata.create_all(get_engine())
    try:
        result = handler(Dummy())
    finally:
        get_settings.cache_clear()
    assert calls == []
    assert isinstance(result, list) and len(result) == 2  # remove the cookie, go to /login
