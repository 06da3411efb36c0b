"""tickets and bookings: activity, comments, booking rules

Revision ID: 3a_tickets_bookings
Revises: 2b_customer_search
Create Date: 2026-11-26 06:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '3a_tickets_bookings'
down_revision: Union[str, None] = '2b_customer_search'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('activity_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('to_value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("subject_type IN ('ticket','booking')", name='ck_activity_entries_subject_type'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.create_index('ix_activity_entries_subject', ['subject_type', 'subject_id', 'created_at'],
                              unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_status_starts', ['status', 'starts_at'], unique=False)

    # SQLite cannot ALTER TABLE ... ADD a stored generated column: batch mode copies the table there.
    recreate = 'always' if op.get_bind().dialect.name == 'sqlite' else 'auto'
    with op.batch_alter_table('tickets', schema=None, recreate=recreate) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(),
                                      sa.Computed("lower(title || ' ' || description)", persisted=True),
                                      nullable=True))
        batch_op.drop_index('ix_tickets_assignee_id')
        batch_op.create_index('ix_tickets_assignee_status_created', ['assignee_id', 'status', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_priority_status_created', ['priority', 'status', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_source_status_created', ['source', 'status', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    recreate = 'always' if op.get_bind().dialect.name == 'sqlite' else 'auto'
    with op.batch_alter_table('tickets', schema=None, recreate=recreate) as batch_op:
        batch_op.drop_column('search_text')
        batch_op.drop_index('ix_tickets_updated_at')
        batch_op.drop_index('ix_tickets_source_status_created')
        batch_op.drop_index('ix_tickets_priority_status_created')
        batch_op.drop_index('ix_tickets_assignee_status_created')
        batch_op.create_index('ix_tickets_assignee_id', ['assignee_id'], unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_status_starts')

    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_entries_subject')
    op.drop_table('activity_entries')
