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
    pass


def downgrade() -> None:
    pass
