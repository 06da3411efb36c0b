"""campaigns and outbound calling

Revision ID: 5a_campaigns
Revises: 4a_call_automation
Create Date: 2026-11-26 06:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '5a_campaigns'
down_revision: Union[str, None] = '4a_call_automation'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
