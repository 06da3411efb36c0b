"""The admin CLI, run as a person runs it: `python -m navaia_app.cli ...` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from navaia_app.auth.models import User
from navaia_app.auth.service import HASHER
from navaia_app.core.db import engine_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tmp_path):
    """run("create-user", ...) against a fresh SQLite database migrated by `cli migrate`."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "APP_ENV": "test"}

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "navaia_app.cli", *args], env=env, input=input,
                              capture_output=True, text=True, timeout=120)

    migrated = run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    run.url = url
    yield run
    engine_for(url).dispose()


def _users(url: str) -> list[User]:
    with Session(engine_for(url)) as db:
        return list(db.exec(select(User)))


def test_help_lists_every_command_quickly():
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "navaia_app.cli", "--help"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=30)
    assert done.returncode == 0
    for command in ("create-user", "seed-demo", "migrate", "worker", "demo-admin"):
        assert command in done.stdout
    assert time.monotonic() - started < 3


def test_create_user(cli):
    done = cli("create-user", "--email", "Ops@Example.com", "--password", "tidal-copper-lantern",
               "--name", "Olivia Ops", "--role", "admin")
    assert done.returncode == 0, done.stderr
    assert "ops@example.com" in done.stdout
    assert "tidal-copper-lantern" not in done.stdout + done.stderr
    [user] = _users(cli.url)
    assert (user.email, user.name, user.role) == ("ops@example.com", "Olivia Ops", "admin")
    assert HASHER.verify("tidal-copper-lantern", user.password_hash)


def test_create_user_reads_the_password_from_stdin(cli):
    done = cli("create-user", "--email", "agent@example.com", "--name", "Ann Agent", input="tidal-copper-lantern\n")
    assert done.returncode == 0, done.stderr
    [user] = _users(cli.url)
    assert user.role == "agent" and HASHER.verify("tidal-copper-lantern", user.password_hash)


@pytest.mark.parametrize("password, message", [("short", "at least 8"), ("password123", "too common")])
def test_create_user_refuses_a_bad_password_with_exit_2(cli, password, message):
    done = cli("create-user", "--email", "x@example.com", "--password", password, "--name", "X", "--role", "agent")
    assert done.returncode == 2
    assert message in done.stderr
    assert _users(cli.url) == []


def test_create_user_refuses_a_taken_email_with_exit_2(cli):
    args = ("create-user", "--email", "dup@example.com", "--password", "tidal-copper-lantern", "--name", "D")
    assert cli(*args).returncode == 0
    again = cli(*args)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert len(_users(cli.url)) == 1


def test_seed_demo_if_empty_and_demo_admin(cli):
    assert cli("demo-admin").stdout == ""  # no demo admin yet: nothing to show
    first = cli("seed-demo", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "40 customers" in first.stdout and "admin@navaia.demo" in first.stdout
    assert "15 conversations" in first.stdout and "7 campaign calls" in first.stdout
    second = cli("seed-demo", "--if-empty")
    assert second.returncode == 0 and "not seeded" in second.stdout
    shown = cli("demo-admin")
    assert shown.stdout.strip() == "Demo login: admin@navaia.demo / navaia-demo-2026"


def test_seed_demo_if_empty_leaves_a_database_with_users_alone(cli):
    assert cli("create-user", "--email", "a@example.com", "--password", "tidal-copper-lantern",
               "--name", "A").returncode == 0
    done = cli("seed-demo", "--if-empty")
    assert done.returncode == 0 and "not seeded" in done.stdout
    assert [u.email for u in _users(cli.url)] == ["a@example.com"]


def test_commands_on_an_unmigrated_database_explain_what_to_do(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    done = subprocess.run([sys.executable, "-m", "navaia_app.cli", "seed-demo"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "migrate" in done.stderr and "Traceback" not in done.stderr


PROD_ENV = {"APP_ENV": "prod", "SECRET_KEY": "k" * 48, "ALLOWED_ORIGINS": "https://navaia.example.com",
            "PUBLIC_BASE_URL": "https://navaia.example.com", "ELEVENLABS_WEBHOOK_SECRET": "w" * 32,
            "AGENT_TOOLS_SECRET": "t" * 32}


def test_seed_demo_never_creates_the_public_demo_admin_in_production(cli, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": cli.url, **PROD_ENV}
    done = subprocess.run([sys.executable, "-m", "navaia_app.cli", "seed-demo"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "admin@navaia.demo" not in done.stdout
    assert _users(cli.url) == []


def test_check_config_says_why_production_would_refuse_to_start():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "prod", "SECRET_KEY": "", "SECRET_KEY_FILE": ""}
    done = subprocess.run([sys.executable, "-m", "navaia_app.cli", "check-config"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "SECRET_KEY must be set" in done.stderr and "Traceback" not in done.stderr


def test_make_run_stops_at_once_with_the_reason_when_the_app_would_refuse_to_start(tmp_path):
    """scripts/run.sh (what `make run` runs) with APP_ENV=prod and no SECRET_KEY: it used to start a web app
    that never answered and wait for minutes; it must stop now, saying why, and start nothing."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "prod", "SECRET_KEY": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}", "ELEVENLABS_WEBHOOK_SECRET": "x" * 32,
           "AGENT_TOOLS_SECRET": "y" * 32, "PORT": "1"}
    started = time.monotonic()
    done = subprocess.run(["bash", str(ROOT / "scripts/run.sh")], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "never.db").exists()  # refused before migrating anything
