"""Shared fixtures.

Every test that asks for `database_url` (directly or through `session`, `api_client`, ...)
runs twice: on SQLite and on PostgreSQL. Each run gets its own database, built by the
Alembic migrations (not `create_all`), so the migrations are exercised by every test:

- SQLite: one migrated file per test session, copied for each test;
- PostgreSQL: one migrated template database per test session (and per xdist worker),
  then `CREATE DATABASE <unique> TEMPLATE <template>` for each test, dropped at teardown.

The PostgreSQL server is the one in `DATABASE_URL` when that is a PostgreSQL URL (CI),
else postgresql+psycopg://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from navaia_app.core.db import engine_for, session_scope
from navaia_app.core.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Read once, before any test changes the environment.
_GIVEN_DATABASE_URL = os.environ.get("DATABASE_URL", "")

DEFAULT_PASSWORD = "quiet harbour lantern 42"


# --- Alembic ---------------------------------------------------------------------------------


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["configure_logging"] = False  # keep pytest's log capture intact
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
    engine_for(url).dispose()  # no connection may stay open on a template


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
    engine_for(url).dispose()


# --- PostgreSQL server -----------------------------------------------------------------------


class PgServer:
    """Creates and drops throw-away databases on one PostgreSQL server."""

    def __init__(self, url: sa.URL):
        self.url = url
        self.admin = sa.create_engine(url.render_as_string(hide_password=False),
                                      isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, *, template: str | None = None) -> str:
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with self.admin.connect() as conn:
            conn.execute(sa.text(sql))
        return self.database_url(name)

    def drop(self, name: str) -> None:
        engine_for(self.database_url(name)).dispose()
        with self.admin.connect() as conn:
            # FORCE disconnects any session still open on it (PostgreSQL 13+).
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    explicit = _GIVEN_DATABASE_URL.startswith("postgresql")
    server = PgServer(sa.make_url(_GIVEN_DATABASE_URL if explicit else DEFAULT_PG_URL))
    try:
        with server.admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        if explicit:
            raise
        pytest.skip(f"PostgreSQL is not reachable at {server.url.render_as_string()}: {exc.orig}")
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> Iterator[str]:
    """A migrated database that each PostgreSQL test database is copied from."""
    name = _unique("navaia_tmpl")
    url = pg_server.create(name)
    try:
        migrate(url)
        yield name
    finally:
        pg_server.drop(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite:///{path}")
    assert not Path(f"{path}-wal").exists(), "the template must be checkpointed before it is copied"
    return path


# --- the database under test -----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A freshly migrated, empty database of each kind."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "navaia.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        yield url
        engine_for(url).dispose()
    else:
        server: PgServer = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("pg_template")
        name = _unique("navaia_t")
        url = server.create(name, template=template)
        try:
            yield url
        finally:
            server.drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """A database of each kind with no table at all (for the migration tests)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        yield url
        engine_for(url).dispose()
    else:
        server: PgServer = request.getfixturevalue("pg_server")
        name = _unique("navaia_e")
        url = server.create(name)
        try:
            yield url
        finally:
            server.drop(name)


@pytest.fixture
def set_env(monkeypatch) -> Callable[..., None]:
    """set_env(ALLOW_SIGNUP="true"): change settings for this test only."""

    def _set(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    yield _set
    get_settings.cache_clear()


@pytest.fixture
def app_env(database_url, set_env):
    """Points the code under test at the test database (through the environment, as in production)."""
    set_env(DATABASE_URL=database_url, APP_ENV="test", ALLOW_SIGNUP="false", BUSINESS_TIMEZONE="UTC",
            DEFAULT_PHONE_REGION="US")
    return get_settings()


@pytest.fixture
def session(app_env, database_url) -> Iterator[Session]:
    with Session(engine_for(database_url), expire_on_commit=False) as db:
        yield db


# --- users, tokens, HTTP ---------------------------------------------------------------------


@pytest.fixture
def make_user(app_env) -> Callable[..., object]:
    """make_user(role="agent", email=..., password=...) -> a committed User."""
    from navaia_app.auth import service as auth_service

    def _make(*, email: str | None = None, password: str = DEFAULT_PASSWORD, name: str = "Test User",
              role: str = "admin"):
        with session_scope() as db:
            return auth_service.create_user(session=db, email=email or f"user-{uuid.uuid4().hex[:8]}@example.com",
                                            password=password, name=name, role=role)

    return _make


@pytest.fixture
def api_client(app_env) -> Iterator[TestClient]:
    from navaia_app.api_app import create_api

    with TestClient(create_api()) as client:
        yield client


@pytest.fixture
def login(api_client) -> Callable[..., dict[str, str]]:
    """login(email, password) -> the Authorization header of a fresh API token."""

    def _login(email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
        response = api_client.post("/api/v1/auth/token", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return _login


@pytest.fixture
def auth_headers(make_user, login) -> dict[str, str]:
    """The Authorization header of a signed-in admin."""
    user = make_user(email="admin@example.com", role="admin")
    return login(user.email)
