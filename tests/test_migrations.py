"""Migrations: a full upgrade and downgrade on both databases, and models that match them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from navaia_app.core.db import engine_for
from navaia_app.models import metadata
from tests.conftest import alembic_config, downgrade, migrate


def _tables(url: str) -> set[str]:
    engine = engine_for(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _current(url: str) -> str | None:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def test_there_is_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1


def test_upgrade_to_head_and_downgrade_to_base(empty_database_url):
    url = empty_database_url
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert _tables(url) == set()

    migrate(url)
    assert _tables(url) == set(metadata.tables) | {"alembic_version"}
    assert _current(url) == head

    downgrade(url, "base")
    assert _tables(url) == {"alembic_version"}
    assert _current(url) is None

    migrate(url)  # and back up again, so the downgrade left nothing behind that blocks it
    assert _tables(url) == set(metadata.tables) | {"alembic_version"}


def test_models_and_migrations_agree(database_url):
    """What `alembic check` does: autogenerate finds nothing to add on a migrated database."""
    engine = engine_for(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "target_metadata": metadata})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == [], (
        "the models and the migrations differ; generate a migration for:\n" + "\n".join(map(str, differences)))


def test_inbox_payloads_are_lz4_compressed_on_postgresql(empty_database_url):
    """The webhook inbox's payload column uses lz4 on PostgreSQL (cheaper ingest), pglz after a downgrade."""
    if not empty_database_url.startswith("postgresql"):
        return  # a PostgreSQL column setting; SQLite has none (the migration is a no-op there)
    migrate(empty_database_url)
    query = sa.text("SELECT attcompression FROM pg_attribute WHERE attrelid = 'webhook_events'::regclass "
                    "AND attname = 'payload'")
    engine = engine_for(empty_database_url)
    with engine.connect() as conn:
        assert conn.execute(query).scalar() == "l"
    engine.dispose()
    downgrade(empty_database_url, "6a_production")
    with engine.connect() as conn:
        assert conn.execute(query).scalar() == "p"
    engine.dispose()


def test_attempts_placed_before_10e_get_their_customers_local_slot(empty_database_url, set_env):
    """Migration 10e backfills each placed attempt's local weekday and hour (the customer's zone, else the
    business zone; DST included); an attempt never placed keeps none."""
    set_env(BUSINESS_TIMEZONE="Europe/Berlin")
    url = empty_database_url
    migrate(url, "10d_reminders")
    engine = engine_for(url)
    with engine.begin() as conn:
        for cid, zone in ((1, "America/New_York"), (2, None)):
            conn.execute(sa.text("INSERT INTO customers (id, name, phone, timezone, do_not_call, notes, created_at, "
                                 "updated_at) VALUES (:id, 'C', :phone, :zone, false, '', :at, :at)"),
                         {"id": cid, "phone": f"+1212555000{cid}", "zone": zone, "at": "2026-01-01 00:00:00"})
            conn.execute(sa.text("INSERT INTO campaign_calls (id, customer_id, status, attempts, variables, created_at, "
                                 "updated_at, tries, purpose, claims) VALUES (:id, :id, 'completed', 1, '{}', :at, "
                                 ":at, 1, 'call_now', '{}')"), {"id": cid, "at": "2026-01-01 00:00:00"})
        # 14:00 UTC: 10:00 EDT in New York (a Wednesday), 16:00 CEST in Berlin; the third was never placed
        for aid, call, placed in ((1, 1, "2026-07-01 14:00:00"), (2, 2, "2026-07-01 14:00:00"), (3, 2, None)):
            conn.execute(sa.text("INSERT INTO campaign_call_attempts (id, campaign_call_id, number, idempotency_key, "
                                 "provider, status, created_at, updated_at, placed_at) VALUES (:id, :call, :id, :key, "
                                 "'twilio', 'ended', :at, :at, :placed)"),
                         {"id": aid, "call": call, "key": f"k{aid}", "at": "2026-07-01 14:00:00", "placed": placed})
    migrate(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, local_weekday, local_hour FROM campaign_call_attempts ORDER BY id"))
        assert [tuple(r) for r in rows] == [(1, 2, 10), (2, 2, 16), (3, None, None)]
    engine.dispose()
