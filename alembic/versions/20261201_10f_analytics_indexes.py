"""analytics indexes: a period's conversation figures and the rollup's rows read from an index alone
(INCLUDE on PostgreSQL); a campaign's call ids (10e's index, for a database migrated before it was added).

Revision ID: 10f_analytics_indexes
Revises: 10e_analytics_rollup
Create Date: 2026-12-01 15:30:00.000000
"""
from typing import Sequence, Union

from alembic import op


revision: str = '10f_analytics_indexes'
down_revision: Union[str, None] = '10e_analytics_rollup'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLLUP = (('analytics_outcomes', ['campaign_key', 'day'],
           ['outcome', 'cost_unit', 'attempts', 'goals', 'priced', 'cost_sum']),
          ('analytics_slots', ['campaign_key', 'day'], ['weekday', 'hour', 'dialled', 'answered']),
          ('analytics_talk', ['campaign_key', 'day', 'seconds'], ['calls']))


def upgrade() -> None:
    # 10e creates it since 15:07 today; a database migrated to 10e before that lacks it
    op.execute("CREATE INDEX IF NOT EXISTS ix_campaign_calls_campaign_ids ON campaign_calls (campaign_id, id)")
    op.create_index('ix_conversations_created_cover', 'conversations', ['created_at'], unique=False,
                    postgresql_include=['goal_reached', 'handed_off_at', 'evaluation_failed', 'cost'])
    for table, columns, include in ROLLUP:
        op.drop_index(f'ix_{table}_key_day', table_name=table)
        op.create_index(f'ix_{table}_key_day', table, columns, unique=False, postgresql_include=include)


def downgrade() -> None:
    for table, columns, _include in ROLLUP:
        op.drop_index(f'ix_{table}_key_day', table_name=table)
        op.create_index(f'ix_{table}_key_day', table, columns, unique=False)
    op.drop_index('ix_conversations_created_cover', table_name='conversations')
