"""campaigns and outbound calling

Revision ID: 5a_campaigns
Revises: 4a_call_automation
Create Date: 2026-11-26 06:10:00
"""
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '5a_campaigns'
down_revision: Union[str, None] = '4a_call_automation'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('paused_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', navaia_app.core.types.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.alter_column('snapshot', server_default=None)

    with op.batch_alter_table('campaign_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tries', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('last_attempt_at', navaia_app.core.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_campaign_calls_requested_by_id_users', 'users', ['requested_by_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_campaign_calls_campaign_status_due', ['campaign_id', 'status', 'next_attempt_at'],
                              unique=False)
    with op.batch_alter_table('campaign_calls', schema=None) as batch_op:
        batch_op.alter_column('tries', server_default=None)

    op.create_table('campaign_call_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_call_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('provider_call_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('external_conversation_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('created_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('placed_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_call_id'], ['campaign_calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_call_id', 'number', name='uq_campaign_call_attempts_call_number'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('provider_call_id')
    )
    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_call_attempts_campaign_call_id'), ['campaign_call_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_call_attempts_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_call_attempts_placed_at'), ['placed_at'], unique=False)
        batch_op.create_index('ix_campaign_call_attempts_status', ['status'], unique=False)

    op.create_table('call_status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('provider_call_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('received_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'provider_call_id', 'status', name='uq_call_status_events_key')
    )

    leases = op.create_table('dispatch_leases',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('expires_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pacing', sa.JSON(), nullable=False),
    sa.Column('updated_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)
    op.bulk_insert(leases, [{'name': 'dispatcher', 'owner': '', 'expires_at': epoch, 'pacing': {},
                             'updated_at': epoch}])


def downgrade() -> None:
    op.drop_table('dispatch_leases')
    op.drop_table('call_status_events')
    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_call_attempts_status')
        batch_op.drop_index(batch_op.f('ix_campaign_call_attempts_placed_at'))
        batch_op.drop_index(batch_op.f('ix_campaign_call_attempts_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_call_attempts_campaign_call_id'))
    op.drop_table('campaign_call_attempts')
    with op.batch_alter_table('campaign_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_calls_campaign_status_due')
        batch_op.drop_constraint('fk_campaign_calls_requested_by_id_users', type_='foreignkey')
        batch_op.drop_column('requested_by_id')
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('last_detail')
        batch_op.drop_column('tries')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('snapshot')
        batch_op.drop_column('status_reason')
