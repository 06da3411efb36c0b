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
    pass


def downgrade() -> None:
    pass
