"""annotations: supervisors' notes and flags on sections and mall orders

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'annotation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject_type', sa.String(length=20), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('flagged', sa.Boolean(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_annotation_author_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_annotation')),
    )
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotation_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_annotation_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_annotation_subject', ['subject_type', 'subject_id'], unique=False)


def downgrade():
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.drop_index('ix_annotation_subject')
        batch_op.drop_index(batch_op.f('ix_annotation_created_at'))
        batch_op.drop_index(batch_op.f('ix_annotation_author_id'))
    op.drop_table('annotation')
