"""online opening: attempts, released shares, bid results, sign-ins, record responses

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 18:30:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.db  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('opening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('release_ends_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('suspended_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suspension_note', sa.Text(), nullable=False),
    sa.Column('rescheduled_to', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decrypt_started_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('bids_total', sa.Integer(), nullable=False),
    sa.Column('bids_decided', sa.Integer(), nullable=False),
    sa.Column('decrypted_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('decision_ground', sa.Text(), nullable=False),
    sa.Column('record', sa.Text(), nullable=True),
    sa.Column('sealed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('objections_end_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['user.id'], name=op.f('fk_opening_host_id_user')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_opening_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening')),
    sa.UniqueConstraint('section_id', 'attempt', name=op.f('uq_opening_section_id'))
    )
    with op.batch_alter_table('opening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_section_id'), ['section_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opening_status'), ['status'], unique=False)

    op.create_table('bid_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=False),
    sa.Column('price', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('documents', sa.Text(), nullable=False),
    sa.Column('guarantee_id', sa.Integer(), nullable=True),
    sa.Column('guarantee_verdict', sa.String(length=40), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_result_bid_id_bid')),
    sa.ForeignKeyConstraint(['guarantee_id'], ['guarantee.id'], name=op.f('fk_bid_result_guarantee_id_guarantee')),
    sa.ForeignKeyConstraint(['opening_id'], ['opening.id'], name=op.f('fk_bid_result_opening_id_opening')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_bid_result_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_result')),
    sa.UniqueConstraint('opening_id', 'bid_id', name=op.f('uq_bid_result_opening_id'))
    )
    with op.batch_alter_table('bid_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_result_opening_id'), ['opening_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_result_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('opening_sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['opening_id'], ['opening.id'], name=op.f('fk_opening_sign_in_opening_id_opening')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_opening_sign_in_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_opening_sign_in_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_sign_in')),
    sa.UniqueConstraint('opening_id', 'organisation_id', name=op.f('uq_opening_sign_in_opening_id'))
    )
    with op.batch_alter_table('opening_sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_sign_in_opening_id'), ['opening_id'], unique=False)

    op.create_table('record_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_record_response_answered_by_id_user')),
    sa.ForeignKeyConstraint(['opening_id'], ['opening.id'], name=op.f('fk_record_response_opening_id_opening')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_record_response_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_record_response_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_response')),
    sa.UniqueConstraint('opening_id', 'organisation_id', name=op.f('uq_record_response_opening_id'))
    )
    with op.batch_alter_table('record_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_response_opening_id'), ['opening_id'], unique=False)

    op.create_table('released_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('key_share_id', sa.Integer(), nullable=False),
    sa.Column('box', sa.LargeBinary(), nullable=True),
    sa.Column('released_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['key_share_id'], ['key_share.id'], name=op.f('fk_released_share_key_share_id_key_share')),
    sa.ForeignKeyConstraint(['opening_id'], ['opening.id'], name=op.f('fk_released_share_opening_id_opening')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_released_share')),
    sa.UniqueConstraint('opening_id', 'key_share_id', name=op.f('uq_released_share_opening_id'))
    )
    with op.batch_alter_table('released_share', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_released_share_opening_id'), ['opening_id'], unique=False)



def downgrade():
    with op.batch_alter_table('released_share', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_released_share_opening_id'))

    op.drop_table('released_share')
    with op.batch_alter_table('record_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_response_opening_id'))

    op.drop_table('record_response')
    with op.batch_alter_table('opening_sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_sign_in_opening_id'))

    op.drop_table('opening_sign_in')
    with op.batch_alter_table('bid_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_result_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_bid_result_opening_id'))

    op.drop_table('bid_result')
    with op.batch_alter_table('opening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_status'))
        batch_op.drop_index(batch_op.f('ix_opening_section_id'))

    op.drop_table('opening')
