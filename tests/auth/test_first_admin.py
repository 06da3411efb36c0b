"""Who becomes the first administrator of a fresh deployment (issue 10, item 1), on SQLite and PostgreSQL.

In production the first admin comes only from the CLI or the one-time setup token that the server logs;
in dev the first visitor may register. Either way the check ("no user yet") and the insert are one
step: two registrations racing on an empty database never make two admins."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from navaia_app.auth import service
from navaia_app.auth.models import User
from navaia_app.core.db import engine_for
from navaia_app.core.errors import DomainError, PermissionDenied
from tests.conftest import DEFAULT_PASSWORD

PROD_SECRET = "k" * 20 + "a-real-random-secret-for-tests"


def _users(database_url) -> list[tuple[str, str]]:
    with Session(engine_for(database_url)) as db:
        return [(u.email, u.role) for u in db.exec(select(User).order_by(User.id))]


def _register(database_url, email, **kwargs):
    with Session(engine_for(database_url), expire_on_commit=False) as db:
        user = service.register(session=db, email=email, password=DEFAULT_PASSWORD, name="Someone", **kwargs)
        db.commit()
        return user


@pytest.fixture
def prod(app_env, set_env):
    set_env(APP_ENV="prod", SECRET_KEY=PROD_SECRET, PUBLIC_BASE_URL="https://navaia.example.com")


def test_in_production_the_first_visitor_cannot_register_without_the_setup_token(prod, database_url):
    assert service.signup_mode(session=Session(engine_for(database_url))) == "setup"
    for token in ("", "0" * 32, service.first_admin_setup_token()[:-1] + "x"):
        with pytest.raises(PermissionDenied) as exc:
            _register(database_url, "visitor@example.com", setup_token=token)
        assert "setup token" in exc.value.message
    assert _users(database_url) == []

    admin = _register(database_url, "owner@example.com", setup_token=service.first_admin_setup_token())
    assert admin.role == "admin"
    # spent: the same token opens nothing once a user exists
    with pytest.raises(PermissionDenied):
        _register(database_url, "late@example.com", setup_token=service.first_admin_setup_token())
    assert _users(database_url) == [("owner@example.com", "admin")]


def test_setup_token_is_derived_from_the_secret_key(prod, set_env):
    first = service.first_admin_setup_token()
    assert len(first) == 32 and PROD_SECRET not in first
    set_env(SECRET_KEY=PROD_SECRET + "-other")
    assert service.first_admin_setup_token() != first


def test_the_server_log_says_how_to_register_the_first_admin(prod, database_url, capsys):
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        service.announce_first_admin_setup()
    links = [entry["register_url"] for entry in logs if "register_url" in entry]
    assert links == [f"https://navaia.example.com/register?setup_token={service.first_admin_setup_token()}"]

    _register(database_url, "owner@example.com", setup_token=service.first_admin_setup_token())
    with capture_logs() as logs:
        service.announce_first_admin_setup()
    assert not [entry for entry in logs if "register_url" in entry]


@pytest.mark.parametrize("allow_signup", ["false", "true"])
def test_two_simultaneous_first_registrations_make_one_admin(app_env, set_env, database_url, allow_signup):
    set_env(ALLOW_SIGNUP=allow_signup)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def race(n: int) -> None:
        start.wait()
        try:
            outcomes.append(_register(database_url, f"racer{n}@example.com").role)
        except DomainError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    roles = [role for _email, role in _users(database_url)]
    assert roles.count("admin") == 1, outcomes
    if allow_signup == "true":
        assert sorted(outcomes) == ["admin", "agent", "agent", "agent"]
    else:
        assert sorted(outcomes) == ["PermissionDenied"] * 3 + ["admin"]
