"""voicemail message per campaign; analytics indexes: attempt indexes carry what analytics reads (PostgreSQL
INCLUDE: index-only scans for a campaign's or a period's figures), a partial index of calls whose goal was reached

Revision ID: 10c_voicemail
Revises: 10b_call_now_once
Create Date: 2026-12-01 12:20:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '10c_voicemail'
down_revision: Union[str, None] = '10b_call_now_once'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ['outcome', 'duration_seconds', 'cost', 'cost_unit', 'campaign_call_id']


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voicemail_message', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_call_attempts_campaign_placed')
        batch_op.create_index('ix_campaign_call_attempts_campaign_placed', ['campaign_id', 'placed_at'], unique=False,
                              postgresql_include=COLUMNS)
        batch_op.create_index('ix_campaign_call_attempts_placed_cover', ['placed_at'], unique=False,
                              postgresql_include=['campaign_id', *COLUMNS])
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_goal_call', ['campaign_call_id'], unique=False,
                              postgresql_where=sa.text('goal_reached'), sqlite_where=sa.text('goal_reached'))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_goal_call')
    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_call_attempts_placed_cover')
        batch_op.drop_index('ix_campaign_call_attempts_campaign_placed')
        batch_op.create_index('ix_campaign_call_attempts_campaign_placed', ['campaign_id', 'placed_at'], unique=False)
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('voicemail_message')
