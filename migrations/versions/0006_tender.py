"""tender: projects, sections, acceptance, notices, registrations, clarifications, rooms

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:10:00

"""
from alembic import op
import sqlalchemy as sa

import core.db  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
