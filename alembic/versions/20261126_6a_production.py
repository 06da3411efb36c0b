"""production readiness: audit log

Revision ID: 6a_production
Revises: 5a_campaigns
Create Date: 2026-11-26 06:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import navaia_app.core.types


revision: str = '6a_production'
down_revision: Union[str, None] = '5a_campaigns'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
