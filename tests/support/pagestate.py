"""Running a page state's event handlers in a unit test: the real state classes of the registered app,
a real signed-in web session, no browser.

`signed_in(user)` gives the root state with the session cookie set; `run(state, "load")` calls the
handler (plain, coroutine or generator alike) and returns the events it sent back; `problems(events)`
says which of them a person would see as a failure (an error toast, a trip to the sign-in page)."""

from __future__ import annotations

import asyncio
import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def app():
    import navaia_app.navaia_app as module  # registers every page and its states

    return module.app


def signed_in(user, *, path: str = "/", params: dict[str, str] | None = None):
    """The root state of a tab in which `user` signed in (a fresh web session), at `path`."""
    from reflex.istate.data import RouterData
    from reflex.state import State

    from navaia_app.auth import service as auth_service
    from navaia_app.auth.state import AuthState
    from navaia_app.core.db import session_scope

    with session_scope() as session:
        token = auth_service.start_session(session=session, user=user, kind="web")
    root = State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"pathname": path, "asPath": path, "query": dict(params or {})})
    auth = root.get_substate(AuthState.get_full_name().split(".")[1:])
    auth.session_token = token
    return root


def substate(root, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _in_fresh_loop(coroutine):
    # a thread of its own: another test's event loop may still run in this one (Playwright's)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _flatten(result) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        return [e for item in result for e in _flatten(item)]
    return [result]


def run(state, handler: str, *args) -> list[Any]:
    """Call `handler` on `state` as Reflex would; the events it returned or yielded, flattened."""
    fn = type(state).event_handlers[handler].fn
    result = fn(state, *args)
    if inspect.iscoroutine(result):
        result = _in_fresh_loop(result)
    elif inspect.isgenerator(result):
        result = list(result)
    elif inspect.isasyncgen(result):
        async def drain():
            return [item async for item in result]
        result = _in_fresh_loop(drain())
    return _flatten(result)


def problems(events: list[Any]) -> list[str]:
    """The events a person would see as a failure: an error toast or being sent to sign in."""
    found = []
    for event in events:
        text = repr(event)
        if "__toast" in text and '["error"]' in text:
            found.append(f"error toast: {text[:300]}")
        elif "_redirect" in text and "/login" in text:
            found.append("sent to the sign-in page")
    return found
