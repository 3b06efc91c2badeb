"""dispatch: claim, retry and delivery columns on the outbox; flow answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('rendered', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('parts_sent', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('sent_at', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_not_before'), ['not_before'], unique=False)
    op.execute("UPDATE outbox SET not_before = due_at")
    op.create_table('flow_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_answers_flow'), ['flow'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_answers_outbox_id'), ['outbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_answers_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_table('flow_answers')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_not_before'))
        for column in ('sent_at', 'parts_sent', 'rendered', 'channel', 'claimed_at', 'not_before'):
            batch_op.drop_column(column)
