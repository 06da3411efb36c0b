"""security: web sessions remember a hash of the browser's user agent (a stolen cookie is worth less)

Revision ID: 10a_session_agent
Revises: 9b_outreach
Create Date: 2026-12-01 12:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '10a_session_agent'
down_revision: Union[str, None] = '9b_outreach'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # sessions started before this migration keep '' (not bound) until they expire (12 hours at most)
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.alter_column('agent_hash', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('agent_hash')
