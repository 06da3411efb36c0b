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


@pytest.mark.parametrize("kind", ["plain", "coroutine", "generator", "async generator"])
def test_every_kind_of_handler_is_checked_and_runs_as_its_user(kind, session, make_user):
    """Sync, async and generator handlers alike: refused without a session; with one, they run with
    actor() set and every log line they write carries the user id and the handler's name."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import structlog

    from navaia_app.auth import service
    from navaia_app.auth import state as auth_state

    user = make_user(email="handler@example.com")
    token = service.start_session(session=session, user=user, kind="web")
    session.commit()
    seen = []

    def body():
        seen.append((auth_state.actor().id, dict(structlog.contextvars.get_contextvars())))

    if kind == "plain":
        def handler(self):
            body()
    elif kind == "coroutine":
        async def handler(self):
            body()
    elif kind == "generator":
        def handler(self):
            yield
            body()
    else:
        async def handler(self):
            yield
            body()
    wrapped = auth_state.authenticated(handler)

    def in_fresh_loop(coroutine):
        # a thread of its own: another test's event loop may still run in this one (Playwright's)
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coroutine).result()

    def run(token_value):
        class Dummy:
            session_token = token_value

        result = wrapped(Dummy())
        if inspect.iscoroutine(result):
            return in_fresh_loop(result)
        if inspect.isgenerator(result):
            return list(result)
        if inspect.isasyncgen(result):
            async def drain():
                return [item async for item in result]
            return in_fresh_loop(drain())
        return result

    refused = run("not-a-real-token")
    refusal = refused[0] if kind.endswith("generator") else refused
    assert seen == [] and isinstance(refusal, list) and len(refusal) == 2
    run(token)
    assert len(seen) == 1
    actor_id, context = seen[0]
    assert actor_id == user.id
    assert context["user_id"] == user.id and context["event_handler"] == "handler"
    assert "user_id" not in structlog.contextvars.get_contextvars()  # nothing leaks past the handler
