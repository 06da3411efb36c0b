"""security: one open "Call now" per customer (a partial unique index), so two requests ring once

Revision ID: 10b_call_now_once
Revises: 10a_session_agent
Create Date: 2026-12-01 12:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '10b_call_now_once'
down_revision: Union[str, None] = '10a_session_agent'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN_CALL_NOW = "purpose = 'call_now' AND status IN ('pending', 'queued', 'ringing', 'in_progress')"


def upgrade() -> None:
    # A database that already holds duplicates (the race this closes) keeps the oldest open "Call now" of a
    # customer; the later ones are cancelled, with the reason, before the index can be built.
    op.execute(f"""
        UPDATE campaign_calls SET status = 'cancelled', last_detail = 'duplicate Call now (migration 10b)'
        WHERE {OPEN_CALL_NOW} AND id NOT IN (
            SELECT min(id) FROM campaign_calls WHERE {OPEN_CALL_NOW} GROUP BY customer_id)
    """)
    op.create_index('uq_campaign_calls_one_open_call_now', 'campaign_calls', ['customer_id'], unique=True,
                    postgresql_where=sa.text(OPEN_CALL_NOW), sqlite_where=sa.text(OPEN_CALL_NOW))


def downgrade() -> None:
    op.drop_index('uq_campaign_calls_one_open_call_now', table_name='campaign_calls')
