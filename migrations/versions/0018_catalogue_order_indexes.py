"""catalogue: the listings on sale by recency and by price, for the first page of a common word

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 04:10:00

A word found in tens of thousands of listings (笔, 黑色, usb3) made PostgreSQL read every match from the
text index and sort them all for a page of twenty (hundreds of milliseconds at a million listings).
mall.search now walks one of these partial indexes in the page's order instead, checking the words row by
row, whenever the capped count says the words are common.
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ON_SALE = sa.text("status = 'approved'")


def upgrade():
    with op.batch_alter_table('mall_listing', schema=None) as batch_op:
        batch_op.create_index('ix_mall_listing_approved_recent', ['updated_at', 'id'], unique=False,
                              postgresql_where=ON_SALE, sqlite_where=ON_SALE)
        batch_op.create_index('ix_mall_listing_approved_price', ['price', 'id'], unique=False,
                              postgresql_where=ON_SALE, sqlite_where=ON_SALE)


def downgrade():
    with op.batch_alter_table('mall_listing', schema=None) as batch_op:
        batch_op.drop_index('ix_mall_listing_approved_price')
        batch_op.drop_index('ix_mall_listing_approved_recent')
