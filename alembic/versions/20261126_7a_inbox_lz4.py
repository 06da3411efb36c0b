"""webhook inbox: lz4 compression of stored payloads on PostgreSQL

Each post-call event keeps its ~5 KB signed JSON; PostgreSQL compresses values of that size, and its
default (pglz) cost the ingest path a good share of its throughput (bench/webhooks.py). lz4 is several
times cheaper for the same job. Applies to rows written from now on; a no-op on SQLite, and on a
PostgreSQL built without lz4.

Revision ID: 7a_inbox_lz4
Revises: 6a_production
Create Date: 2026-11-26 09:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '7a_inbox_lz4'
down_revision: Union[str, None] = '6a_production'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _lz4_available(bind) -> bool:
    return bool(bind.execute(sa.text(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
    )).scalar())


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _lz4_available(bind):
        op.execute("ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _lz4_available(bind):
        op.execute("ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION pglz")
