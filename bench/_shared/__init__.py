"""What the benchmarks share: throw-away databases (migrated by Alembic, as in production) and timing.

A package, so that `bench/*.py` lists only the benchmarks themselves.

Not a test: the scripts print figures. Run one as `PYTHONPATH=. .venv/bin/python bench/NAME.py [--pg]`.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def quiet_logs() -> None:
    """Figures only: the app's info logs (one per created row) would drown them."""
    import logging

    import structlog

    from navaia_app.core.logging import configure_logging

    configure_logging()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)


def _migrate(url: str) -> None:
    from navaia_app.core.migrations import upgrade_database

    upgrade_database(url)


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A migrated SQLite file in /tmp, deleted afterwards."""
    from navaia_app.core.db import engine_for

    folder = tempfile.mkdtemp(prefix="navaia-bench-")
    url = f"sqlite:///{folder}/bench.db"
    try:
        _migrate(url)
        yield url
    finally:
        engine_for(url).dispose()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_database(server_url: str | None = None) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database on the server of `server_url`, dropped afterwards."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    from navaia_app.core.db import engine_for

    base = sa.make_url(server_url or os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"navaia_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def use_database(url: str) -> None:
    """Point the app's settings (and so session_scope) at `url`."""
    from navaia_app.core.settings import get_settings

    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()


def measure(action: Callable[[], object], *, runs: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds of each of `runs` calls (after `warmup` calls that are not counted)."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def median_p95(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def fmt(times: list[float]) -> str:
    median, p95 = median_p95(times)
    return f"{median:8.2f} / {p95:8.2f}"
