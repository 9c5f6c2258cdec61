"""evaluation: the expert pool, committees and their draws, scores, evaluation reports, awards, contracts and
breaches; the section's scoring weights and publicity period

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 18:30:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.db  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('expert_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('categories', sa.Text(), nullable=False),
    sa.Column('affiliations', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_expert_profile_updated_by_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_expert_profile_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_profile')),
    sa.UniqueConstraint('user_id', name=op.f('uq_expert_profile_user_id'))
    )
    op.create_table('committee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('candidates', sa.Text(), nullable=False),
    sa.Column('excluded', sa.Text(), nullable=False),
    sa.Column('drawn_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['user.id'], name=op.f('fk_committee_drawn_by_id_user')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_committee_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee')),
    sa.UniqueConstraint('section_id', name=op.f('uq_committee_section_id'))
    )
    op.create_table('committee_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('signed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['committee_id'], ['committee.id'], name=op.f('fk_committee_member_committee_id_committee')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_committee_member_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_member')),
    sa.UniqueConstraint('committee_id', 'user_id', name=op.f('uq_committee_member_committee_id'))
    )
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_member_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_committee_member_user_id'), ['user_id'], unique=False)

    op.create_table('evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('opening_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=False),
    sa.Column('ranking', sa.Text(), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('sealed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opening_id'], ['opening.id'], name=op.f('fk_evaluation_opening_id_opening')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_evaluation_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation')),
    sa.UniqueConstraint('section_id', name=op.f('uq_evaluation_section_id'))
    )
    op.create_table('award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('bid_result_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('awarded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('awarded_by_id', sa.Integer(), nullable=False),
    sa.Column('notice', sa.Text(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['announcement_id'], ['notice.id'], name=op.f('fk_award_announcement_id_notice')),
    sa.ForeignKeyConstraint(['awarded_by_id'], ['user.id'], name=op.f('fk_award_awarded_by_id_user')),
    sa.ForeignKeyConstraint(['bid_result_id'], ['bid_result.id'], name=op.f('fk_award_bid_result_id_bid_result')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_award_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_award_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award')),
    sa.UniqueConstraint('section_id', name=op.f('uq_award_section_id'))
    )
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('evaluation_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('bid_result_id', sa.Integer(), nullable=False),
    sa.Column('technical', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('commercial', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('entered_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_result_id'], ['bid_result.id'], name=op.f('fk_evaluation_score_bid_result_id_bid_result')),
    sa.ForeignKeyConstraint(['member_id'], ['committee_member.id'], name=op.f('fk_evaluation_score_member_id_committee_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_score')),
    sa.UniqueConstraint('member_id', 'bid_result_id', name=op.f('uq_evaluation_score_member_id'))
    )
    with op.batch_alter_table('evaluation_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_score_bid_result_id'), ['bid_result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_score_member_id'), ['member_id'], unique=False)

    op.create_table('breach',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_breach_award_id_award')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_breach_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_breach_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_breach_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach'))
    )
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_section_id'), ['section_id'], unique=False)

    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('performance_security', sa.Boolean(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_contract_award_id_award')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_contract_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_contract_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('section_id', name=op.f('uq_contract_section_id'))
    )
    with op.batch_alter_table('section', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_weight', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('technical_weight', sa.Integer(), server_default='60', nullable=False))
        batch_op.add_column(sa.Column('commercial_weight', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('publicised_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('publicity_ends_at', core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('section', schema=None) as batch_op:
        batch_op.drop_column('publicity_ends_at')
        batch_op.drop_column('publicised_at')
        batch_op.drop_column('commercial_weight')
        batch_op.drop_column('technical_weight')
        batch_op.drop_column('price_weight')

    op.drop_table('contract')
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_section_id'))
        batch_op.drop_index(batch_op.f('ix_breach_organisation_id'))

    op.drop_table('breach')
    with op.batch_alter_table('evaluation_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_score_member_id'))
        batch_op.drop_index(batch_op.f('ix_evaluation_score_bid_result_id'))

    op.drop_table('evaluation_score')
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_organisation_id'))

    op.drop_table('award')
    op.drop_table('evaluation')
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_committee_member_committee_id'))

    op.drop_table('committee_member')
    op.drop_table('committee')
    op.drop_table('expert_profile')
