"""call automation: conversations, inbox, audio

Revision ID: 4a_call_automation
Revises: 3a_tickets_bookings
Create Date: 2026-11-26 06:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '4a_call_automation'
down_revision: Union[str, None] = '3a_tickets_bookings'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='pending'))
        batch_op.add_column(sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column('caller_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('call_successful', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('campaign_call_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', navaia_app.core.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', navaia_app.core.types.UTCDateTime(), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.create_index(batch_op.f('ix_conversations_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_campaign_call_id'), ['campaign_call_id'], unique=False)
        batch_op.create_foreign_key('fk_conversations_reviewed_by_id_users', 'users', ['reviewed_by_id'], ['id'],
                                    ondelete='SET NULL')
    # Defaults only filled the existing rows; new rows get theirs from the model.
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('outcome', server_default=None)
        batch_op.alter_column('title', server_default=None)
        batch_op.alter_column('updated_at', server_default=None)

    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_attempt_at', navaia_app.core.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('media_path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('conversation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_webhook_events_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_events_conversation_id'))
        batch_op.drop_column('conversation_id')
        batch_op.drop_column('media_path')
        batch_op.drop_column('last_attempt_at')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_conversations_reviewed_by_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_conversations_campaign_call_id'))
        batch_op.drop_index(batch_op.f('ix_conversations_outcome'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('campaign_call_id')
        batch_op.drop_column('call_successful')
        batch_op.drop_column('caller_phone')
        batch_op.drop_column('direction')
        batch_op.drop_column('title')
        batch_op.drop_column('outcome')
