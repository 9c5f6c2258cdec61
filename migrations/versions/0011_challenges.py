"""challenges

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 18:30:00

"""
from alembic import op
import sqlalchemy as sa

import core.db  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _time(name, nullable=False):
    return sa.Column(name, core.db.UTCDateTime(timezone=True), nullable=nullable)


def _indexes(table, *columns):
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def upgrade():
    op.create_table('challenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    _time('event_at'),
    _time('filed_at'),
    sa.Column('status', sa.String(length=30), nullable=False),
    _time('first_due_at'),
    _time('due_at'),
    sa.Column('answer', sa.Text(), nullable=True),
    _time('answered_at', True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    _time('rated_at', True),
    _time('withdrawn_at', True),
    _time('overdue_noted_at', True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_challenge_answered_by_id_user')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['user.id'], name=op.f('fk_challenge_filed_by_id_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_challenge_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_challenge_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge'))
    )
    _indexes('challenge', 'section_id', 'organisation_id', 'filed_at', 'status', 'due_at')

    op.create_table('challenge_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    _time('requested_at'),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    _time('decided_at', True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    _time('due_before'),
    _time('due_after', True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'],
                            name=op.f('fk_challenge_extension_challenge_id_challenge')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_challenge_extension_decided_by_id_user')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'],
                            name=op.f('fk_challenge_extension_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_extension')),
    sa.UniqueConstraint('challenge_id', 'number', name=op.f('uq_challenge_extension_challenge_id'))
    )
    _indexes('challenge_extension', 'challenge_id')

    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    _time('filed_at'),
    sa.Column('status', sa.String(length=20), nullable=False),
    _time('due_at'),
    _time('procedure_suspended_at', True),
    _time('procedure_resumed_at', True),
    _time('decided_at', True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    _time('overdue_noted_at', True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_complaint_challenge_id_challenge')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_complaint_decided_by_id_user')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['user.id'], name=op.f('fk_complaint_filed_by_id_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_complaint_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_complaint_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('challenge_id', name=op.f('uq_complaint_challenge_id'))
    )
    _indexes('complaint', 'section_id', 'organisation_id', 'filed_at', 'status', 'due_at')


def downgrade():
    op.drop_table('complaint')
    op.drop_table('challenge_extension')
    op.drop_table('challenge')
