"""Reflex keeps page state in Redis when several web processes may run (production), so any process
can serve any browser; dev and tests keep it in memory, so `make run` works without Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROD = {"APP_ENV": "prod", "SECRET_KEY": "k" * 48, "ALLOWED_ORIGINS": "https://navaia.example.com",
        "DATABASE_URL": "postgresql+psycopg://navaia@db.example.com/navaia", "REDIS_URL": "redis://redis:6379/0"}


def _reflex_redis(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("REFLEX_REDIS_URL", "APP_ENV", "REDIS_URL")}
    out = subprocess.run([sys.executable, "-c", "import rxconfig; print(rxconfig.config.redis_url or '')"],
                         cwd=ROOT, env={**base, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def test_production_keeps_page_state_in_redis_url():
    assert _reflex_redis(**PROD) == "redis://redis:6379/0"


def test_reflex_redis_url_wins():
    assert _reflex_redis(**PROD, REFLEX_REDIS_URL="redis://redis:6379/1") == "redis://redis:6379/1"


def test_dev_keeps_page_state_in_memory():
    assert _reflex_redis(APP_ENV="dev", REDIS_URL="redis://127.0.0.1:6379/0") == ""
