"""inbound queue: backoff, claims with a lease, the replies kept before sending

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replies', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('parts_sent', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('finished_at', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_inbound_messages_sender', ['channel', 'address', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_messages_sender')
        for column in ('finished_at', 'parts_sent', 'replies', 'claimed_at', 'claimed_by', 'not_before'):
            batch_op.drop_column(column)
