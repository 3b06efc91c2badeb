"""conversation safety: how to reach a person from a handoff, app-side questions, link attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('message', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_handoffs_identity_id'), ['identity_id'], unique=False)
        batch_op.create_foreign_key('fk_handoffs_identity_id', 'channel_identities', ['identity_id'], ['id'])
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_referrals_identity_id'), ['identity_id'], unique=False)
        batch_op.create_foreign_key('fk_referrals_identity_id', 'channel_identities', ['identity_id'], ['id'])
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language_override', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('awaiting', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('awaiting_since', bot.db.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    op.create_table('link_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['channel_identities.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('link_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_attempts_identity_id'), ['identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_attempts_prefix'), ['prefix'], unique=False)


def downgrade() -> None:
    op.drop_table('link_attempts')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.drop_column('awaiting_since')
        batch_op.drop_column('awaiting')
        batch_op.drop_column('language_override')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint('fk_referrals_identity_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_referrals_identity_id'))
        batch_op.drop_column('identity_id')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_constraint('fk_handoffs_identity_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_handoffs_identity_id'))
        batch_op.drop_column('message')
        batch_op.drop_column('language')
        batch_op.drop_column('identity_id')
