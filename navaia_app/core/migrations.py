"""Run Alembic migrations from code (the CLI, `make run`, tests and benchmarks use this)."""

from __future__ import annotations

from navaia_app.core.settings import ROOT


def alembic_config(url: str | None = None):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("path_separator", "os")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False  # keep the app's log format (alembic/env.py)
    return config


def upgrade_database(url: str | None = None, *, revision: str = "head") -> None:
    """Bring the database at `url` (default: DATABASE_URL) up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)

