"""statistics rollup: year × unit rows (grain 3, month number YYYY00) for the units' table of whole years

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 19:30:00

Data only: a rollup already built gets its year rows summed from its month × unit rows (grain 2), exactly
what supervision/rollup.py writes from then on; an empty rollup stays empty.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

SUMS = ("sections", "rated", "base_total", "deal_total", "no_base_deal", "decline_sum", "bidder_sum",
        "bidder_known", "failed")


def upgrade():
    op.execute(
        "INSERT INTO statistics_month (grain, month, category, region_code, method, unit_code, "
        f"{', '.join(SUMS)}) SELECT 3, month / 100 * 100, category, region_code, method, unit_code, "
        f"{', '.join(f'sum({c})' for c in SUMS)} FROM statistics_month WHERE grain = 2 "
        "GROUP BY month / 100 * 100, category, region_code, method, unit_code")


def downgrade():
    op.execute("DELETE FROM statistics_month WHERE grain = 3")
