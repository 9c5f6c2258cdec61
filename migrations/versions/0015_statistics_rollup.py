"""statistics rollup: monthly sums per (grain, month, category, region, method, unit), its watermark, and an
index for the list of awarded sections without a base

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 16:00:00

The rollup is left empty and its state row absent: until the first beat run (or `flask supervision
rebuild-statistics`) fills it, the dashboard computes from the sections.
"""
from alembic import op
import sqlalchemy as sa

import core.db  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

NO_BASE = ("status IN ('awarded', 'contracted') AND deal_amount IS NOT NULL AND award_date IS NOT NULL "
           "AND (base_amount IS NULL OR base_amount <= 0)")


def upgrade():
    op.create_table(
        'statistics_month',
        sa.Column('grain', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('method', sa.String(length=30), nullable=False),
        sa.Column('unit_code', sa.String(length=18), nullable=False),
        sa.Column('sections', sa.Integer(), nullable=False),
        sa.Column('rated', sa.Integer(), nullable=False),
        sa.Column('base_total', sa.Numeric(20, 2), nullable=False),
        sa.Column('deal_total', sa.Numeric(20, 2), nullable=False),
        sa.Column('no_base_deal', sa.Numeric(20, 2), nullable=False),
        sa.Column('decline_sum', sa.Float(), nullable=False),
        sa.Column('bidder_sum', sa.Integer(), nullable=False),
        sa.Column('bidder_known', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('grain', 'month', 'category', 'region_code', 'method', 'unit_code',
                                name=op.f('pk_statistics_month')),
    )
    op.create_index('ix_statistics_month_unit', 'statistics_month', ['unit_code', 'month'], unique=False)
    op.create_table(
        'statistics_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('refreshed_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_state')),
    )
    op.create_index('ix_section_no_base', 'section', ['award_date', 'id'], unique=False,
                    postgresql_where=sa.text(NO_BASE), sqlite_where=sa.text(NO_BASE))


def downgrade():
    op.drop_index('ix_section_no_base', table_name='section')
    op.drop_table('statistics_state')
    op.drop_index('ix_statistics_month_unit', table_name='statistics_month')
    op.drop_table('statistics_month')
