"""outreach: a call's purpose, reference, request key and token claims; attempt error kinds

Revision ID: 9b_outreach
Revises: 9a_integrations
Create Date: 2026-12-01 11:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '9b_outreach'
down_revision: Union[str, None] = '9a_integrations'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='campaign'))
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('request_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column('claims', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.create_unique_constraint('uq_campaign_calls_request_key', ['request_key'])
    op.execute("UPDATE campaign_calls SET purpose = 'call_now' WHERE campaign_id IS NULL")
    with op.batch_alter_table('campaign_calls', schema=None) as batch_op:
        batch_op.alter_column('purpose', server_default=None)
        batch_op.alter_column('claims', server_default=None)

    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.drop_column('error_kind')
    with op.batch_alter_table('campaign_calls', schema=None) as batch_op:
        batch_op.drop_constraint('uq_campaign_calls_request_key', type_='unique')
        batch_op.drop_column('claims')
        batch_op.drop_column('request_key')
        batch_op.drop_column('reference')
        batch_op.drop_column('purpose')
