"""analytics rollup: the customer's local weekday and hour on each attempt (backfilled), a campaign's call
ids from an index, and the daily rollup tables (analytics/models.py).

Revision ID: 10e_analytics_rollup
Revises: 10d_reminders
Create Date: 2026-12-01 14:55:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

import navaia_app.core.types


revision: str = '10e_analytics_rollup'
down_revision: Union[str, None] = '10d_reminders'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 5000


def _backfill_local_slots() -> None:
    """Attempts placed before this release: their customer's wall clock at `placed_at` (as the pipeline now
    stamps it), in batches, converted by Python's zoneinfo on either database."""
    from navaia_app.outreach.calls import local_slot

    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT a.id, a.placed_at, cu.timezone FROM campaign_call_attempts a "
            "JOIN campaign_calls c ON c.id = a.campaign_call_id JOIN customers cu ON cu.id = c.customer_id "
            "WHERE a.placed_at IS NOT NULL AND a.id > :last ORDER BY a.id LIMIT :batch").columns(
                id=sa.Integer, placed_at=navaia_app.core.types.UTCDateTime, timezone=sa.String),
            {"last": last, "batch": BATCH}).all()
        if not rows:
            return
        updates = []
        for attempt_id, placed_at, zone_name in rows:
            weekday, hour = local_slot(placed_at, zone_name)
            updates.append({"id": attempt_id, "weekday": weekday, "hour": hour})
        bind.execute(sa.text("UPDATE campaign_call_attempts SET local_weekday = :weekday, local_hour = :hour "
                             "WHERE id = :id"), updates)
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_weekday', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('local_hour', sa.Integer(), nullable=True))
    _backfill_local_slots()
    op.create_index('ix_campaign_calls_campaign_ids', 'campaign_calls', ['campaign_id', 'id'], unique=False)

    op.create_table('analytics_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('built_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    for table, columns, key_day in (
        ('analytics_outcomes', [
            sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
            sa.Column('cost_unit', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
            *[sa.Column(name, sa.Integer(), nullable=False)
              for name in ('attempts', 'goals', 'durations', 'duration_sum', 'priced')],
            sa.Column('cost_sum', sa.Numeric(precision=18, scale=5), nullable=True)], ['campaign_key', 'day']),
        ('analytics_slots', [sa.Column(name, sa.Integer(), nullable=False)
                             for name in ('weekday', 'hour', 'dialled', 'answered')], ['campaign_key', 'day']),
        ('analytics_talk', [sa.Column(name, sa.Integer(), nullable=False) for name in ('seconds', 'calls')],
         ['campaign_key', 'day', 'seconds']),
    ):
        op.create_table(table,
                        sa.Column('id', sa.Integer(), nullable=False),
                        sa.Column('day', sa.Date(), nullable=False),
                        sa.Column('campaign_key', sa.Integer(), nullable=False),
                        *columns,
                        sa.PrimaryKeyConstraint('id'))
        op.create_index(f'ix_{table}_day', table, ['day'], unique=False)
        op.create_index(f'ix_{table}_key_day', table, key_day, unique=False)


def downgrade() -> None:
    op.drop_index('ix_campaign_calls_campaign_ids', table_name='campaign_calls')
    for table in ('analytics_talk', 'analytics_slots', 'analytics_outcomes'):
        op.drop_index(f'ix_{table}_key_day', table_name=table)
        op.drop_index(f'ix_{table}_day', table_name=table)
        op.drop_table(table)
    op.drop_table('analytics_days')
    with op.batch_alter_table('campaign_call_attempts', schema=None) as batch_op:
        batch_op.drop_column('local_hour')
        batch_op.drop_column('local_weekday')
