"""call automation: conversations, inbox, audio

Revision ID: 4a_call_automation
Revises: 3a_tickets_bookings
Create Date: 2026-11-26 06:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '4a_call_automation'
down_revision: Union[str, None] = '3a_tickets_bookings'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
