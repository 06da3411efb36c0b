"""Uploaded CSV files (issue 10, item 8): kept in a file under MEDIA_DIR/uploads, never as bytes in Reflex
state (which travels to Redis on every event), and parsed and stored off the event loop."""

from __future__ import annotations

import inspect
import os

import pytest

from navaia_app.core import uploads


def _all_states():
    import navaia_app.navaia_app  # noqa: F401  (registers every page and its states)
    from navaia_app.auth.state import AuthState

    seen, todo = [], [AuthState]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_no_page_state_holds_file_bytes():
    for cls in _all_states():
        hints = cls.__dict__.get("__annotations__", {})
        for name, hint in hints.items():
            assert "bytes" not in str(hint), f"{cls.__name__}.{name} keeps bytes in page state"


def _upload_handlers():
    for cls in _all_states():
        for name, handler in cls.event_handlers.items():
            fn = inspect.unwrap(handler.fn)
            if "UploadFile" in str(inspect.signature(fn)):
                yield pytest.param(fn, id=f"{cls.__name__}.{name}")


@pytest.mark.parametrize("fn", list(_upload_handlers()))
def test_upload_handlers_parse_and_store_off_the_event_loop(fn):
    assert inspect.iscoroutinefunction(fn)
    body = inspect.getsource(fn)
    # every parse or database call of the handler runs in asyncio.to_thread (directly or in a nested def)
    assert "asyncio.to_thread(" in body
    for line in body.splitlines()[1:]:
        code = line.strip()
        if ("session_scope(" in code or "service." in code) and "to_thread" not in code:
            assert line.startswith(" " * 12), f"on the event loop: {code}"


def test_stash_read_discard(tmp_path, set_env):
    set_env(MEDIA_DIR=str(tmp_path))
    name = uploads.stash(b"phone\n+14155550123\n")
    path = tmp_path / "uploads" / name
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert uploads.read(name) == b"phone\n+14155550123\n"
    uploads.discard(name)
    assert uploads.read(name) is None and not path.exists()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "", "x.upload", "a" * 32 + ".csv"])
def test_only_names_it_made_are_read(tmp_path, set_env, name):
    set_env(MEDIA_DIR=str(tmp_path))
    assert uploads.read(name) is None
    uploads.discard(name)  # and nothing else is removed


def test_files_left_behind_are_removed_a_day_later(tmp_path, set_env):
    set_env(MEDIA_DIR=str(tmp_path))
    old = uploads.stash(b"old")
    stale = tmp_path / "uploads" / old
    os.utime(stale, (0, 0))
    uploads.stash(b"new")
    assert not stale.exists()
