"""An unexpected failure in a page event: the person gets a reference to quote, and the log line has the same one."""

from __future__ import annotations

import json
import re

import pytest


def _toast_message(spec) -> str:
    """The text of the toast an EventSpec shows (Reflex passes it as the call's first argument)."""
    rendered = json.dumps([str(value) for _, value in spec.args])
    match = re.search(r"Something went wrong on our side; it has been logged \(reference ([A-Z0-9]{6})\)\.", rendered)
    assert match, rendered
    return match.group(1)


def test_the_app_uses_the_handler():
    from navaia_app.navaia_app import app
    from navaia_app.ui.errors import backend_exception_handler

    assert app.backend_exception_handler is backend_exception_handler


def test_unexpected_error_shows_the_reference_that_is_in_the_log_line(session, make_user, capsys, monkeypatch):
    from navaia_app.auth import service
    from navaia_app.auth import state as auth_state
    from navaia_app.core.logging import configure_logging
    from navaia_app.ui.errors import backend_exception_handler

    monkeypatch.setenv("APP_ENV", "prod")  # the JSON renderer, so the line can be read back exactly
    from navaia_app.core import logging as app_logging

    monkeypatch.setattr(app_logging, "_configured", False)
    from navaia_app.core.settings import get_settings

    get_settings.cache_clear()
    try:
        configure_logging()
    finally:
        get_settings.cache_clear()
        monkeypatch.setattr(app_logging, "_configured", False)

    user = make_user(email="oops@example.com")
    token = service.start_session(session=session, user=user, kind="web")
    session.commit()

    @auth_state.authenticated
    def save_something(self):
        raise KeyError("a bug, not a domain error")

    class Dummy:
        session_token = token

    with pytest.raises(KeyError) as caught:
        save_something(Dummy())
    capsys.readouterr()
    spec = backend_exception_handler(caught.value)
    reference = _toast_message(spec)

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    failures = [line for line in lines if line.get("event") == "ui.event_failed"]
    assert len(failures) == 1, lines
    logged = failures[0]
    assert logged["request_id"] == reference
    assert logged["level"] == "error"
    # who, which handler, and the traceback are in the same line
    assert logged["user_id"] == user.id and logged["event_handler"] == "save_something"
    assert "KeyError" in logged["exception"] and "a bug, not a domain error" in logged["exception"]
    # a second failure gets a reference of its own
    assert _toast_message(backend_exception_handler(RuntimeError("again"))) != reference


def test_references_are_readable_and_distinct():
    from navaia_app.ui.errors import new_reference

    refs = {new_reference() for _ in range(500)}
    assert len(refs) == 500
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", ref) for ref in refs)
