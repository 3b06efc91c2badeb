"""console inbox: assignment and outcome of requests, replies and notes, conversations handled by a person

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('handoffs', 'referrals'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('assigned_to', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('outcome', sa.String(length=500), nullable=False, server_default=''))
            batch_op.create_index(f'ix_{table}_assigned_to', ['assigned_to'], unique=False)
            batch_op.create_foreign_key(f'fk_{table}_assigned_to', 'caseworkers', ['assigned_to'], ['id'])
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('understood', sa.JSON(), nullable=True))
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handled_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('handled_until', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_channel_identities_handled_by', 'caseworkers', ['handled_by'], ['id'])
    op.create_table(
        'console_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('identity_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['caseworkers.id']),
        sa.ForeignKeyConstraint(['identity_id'], ['channel_identities.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_console_messages_identity_id', 'console_messages', ['identity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_console_messages_identity_id', table_name='console_messages')
    op.drop_table('console_messages')
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.drop_constraint('fk_channel_identities_handled_by', type_='foreignkey')
        batch_op.drop_column('handled_until')
        batch_op.drop_column('handled_by')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('understood')
    for table in ('referrals', 'handoffs'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_assigned_to', type_='foreignkey')
            batch_op.drop_index(f'ix_{table}_assigned_to')
            batch_op.drop_column('outcome')
            batch_op.drop_column('assigned_to')
