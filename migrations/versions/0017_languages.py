"""each person's language, for what the platform tells them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:20:00

user.language: the language a person last signed in with or chose (NULL: not known yet, the platform's
default). deadline_warning.texts: a warning's title and body in every language of the platform (JSON),
made when it is scheduled, so that each person is warned in their own language when it falls due; rows
from before have none and are sent as stored.
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('deadline_warning', schema=None) as batch_op:
        batch_op.add_column(sa.Column('texts', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('deadline_warning', schema=None) as batch_op:
        batch_op.drop_column('texts')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('language')
