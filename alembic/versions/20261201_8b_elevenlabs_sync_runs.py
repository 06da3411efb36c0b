"""elevenlabs sync runs: the backstop for post-call webhooks that never came

Revision ID: 8b_elevenlabs_sync_runs
Revises: 8a_call_analytics
Create Date: 2026-12-01 11:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '8b_elevenlabs_sync_runs'
down_revision: Union[str, None] = '8a_call_analytics'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'elevenlabs_sync_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', navaia_app.core.types.UTCDateTime(), nullable=False),
        sa.Column('finished_at', navaia_app.core.types.UTCDateTime(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('listed', sa.Integer(), nullable=False),
        sa.Column('missing', sa.Integer(), nullable=False),
        sa.Column('recovered', sa.Integer(), nullable=False),
        sa.Column('recovered_ids', sa.JSON(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_elevenlabs_sync_runs_started_at'), 'elevenlabs_sync_runs', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_elevenlabs_sync_runs_started_at'), table_name='elevenlabs_sync_runs')
    op.drop_table('elevenlabs_sync_runs')
