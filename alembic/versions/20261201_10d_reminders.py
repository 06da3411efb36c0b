"""booking reminders

Revision ID: 10d_reminders
Revises: 10c_voicemail
Create Date: 2026-12-01 11:24:04.182730
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '10d_reminders'
down_revision: Union[str, None] = '10c_voicemail'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    
    op.create_table('reminder_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('call_lead_minutes', sa.Integer(), nullable=True),
    sa.Column('sms_lead_minutes', sa.Integer(), nullable=True),
    sa.Column('sms_fallback', sa.Boolean(), nullable=False),
    sa.Column('channel_order', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('window_start', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('window_end', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('excluded_services', sa.JSON(), nullable=False),
    sa.Column('business_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('sms_template', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('call_opening', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('updated_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('booking_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('due_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('booking_starts_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('provider_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('outbound_call_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('call','sms')", name='ck_booking_reminders_channel'),
    sa.CheckConstraint("status IN ('planned','held','sending','sent','answered','unreachable','failed','skipped','cancelled')", name='ck_booking_reminders_status'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('booking_reminders', schema=None) as batch_op:
        batch_op.create_index('ix_booking_reminders_booking', ['booking_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_reminders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_booking_reminders_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_reminders_outbound_call_id'), ['outbound_call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_reminders_provider_ref'), ['provider_ref'], unique=False)

    op.create_table('sms_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('provider_sid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('reminder_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=1600), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('created_at', navaia_app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('in','out')", name='ck_sms_messages_direction'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reminder_id'], ['booking_reminders.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_sid')
    )
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.create_index('ix_sms_messages_customer', ['customer_id', 'created_at'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))




def downgrade() -> None:
    
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('sms_opt_out')

    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_messages_customer')

    op.drop_table('sms_messages')
    with op.batch_alter_table('booking_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_reminders_provider_ref'))
        batch_op.drop_index(batch_op.f('ix_booking_reminders_outbound_call_id'))
        batch_op.drop_index('ix_booking_reminders_due')
        batch_op.drop_index(batch_op.f('ix_booking_reminders_customer_id'))
        batch_op.drop_index('ix_booking_reminders_booking')

    op.drop_table('booking_reminders')
    op.drop_table('reminder_settings')

