"""customer search column

Revision ID: 2b_customer_search
Revises: c5c9a102dbb3
Create Date: 2026-11-26 06:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '2b_customer_search'
down_revision: Union[str, None] = 'c5c9a102dbb3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sqlmodel.sql.sqltypes.AutoString(length=400),
                                      server_default='', nullable=False))
    op.execute(
        "UPDATE customers SET search_text = TRIM(LOWER(name) || ' ' || COALESCE(LOWER(email), '') || ' ' "
        "|| REPLACE(phone, '+', ''))"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index('ix_customers_search_text', 'customers', ['search_text'], unique=False,
                        postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    else:
        op.create_index('ix_customers_search_text', 'customers', ['search_text'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customers_search_text', table_name='customers')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('search_text')
