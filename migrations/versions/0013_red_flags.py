"""red flags

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 10:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.db  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'red_flag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject_key', sa.String(length=120), nullable=False),
        sa.Column('section_id', sa.Integer(), nullable=True),
        sa.Column('unit_code', sa.String(length=18), nullable=False),
        sa.Column('unit_name', sa.String(length=200), nullable=False),
        sa.Column('occurred_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.Column('computed_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_red_flag_decided_by_id_user')),
        sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_red_flag_section_id_section')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_red_flag')),
        sa.UniqueConstraint('kind', 'subject_key', name=op.f('uq_red_flag_kind')),
    )
    with op.batch_alter_table('red_flag', schema=None) as batch_op:
        for column in ('kind', 'section_id', 'unit_code', 'occurred_at', 'period', 'status'):
            batch_op.create_index(batch_op.f(f'ix_red_flag_{column}'), [column], unique=False)
    op.create_table(
        'red_flag_check',
        sa.Column('subject_key', sa.String(length=120), nullable=False),
        sa.Column('checked_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('subject_key', name=op.f('pk_red_flag_check')),
    )
    op.create_table(
        'red_flag_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('checked', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('raised', sa.Integer(), nullable=False),
        sa.Column('finished_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_red_flag_run_requested_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_red_flag_run')),
    )


def downgrade():
    op.drop_table('red_flag_run')
    op.drop_table('red_flag_check')
    with op.batch_alter_table('red_flag', schema=None) as batch_op:
        for column in ('status', 'period', 'occurred_at', 'unit_code', 'section_id', 'kind'):
            batch_op.drop_index(batch_op.f(f'ix_red_flag_{column}'))
    op.drop_table('red_flag')
