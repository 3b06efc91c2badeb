"""console accounts: caseworker sign-in, roles, locale; server-side console sessions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('caseworkers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('role', sa.Enum('caseworker', 'supervisor', 'admin', 'analyst', name='role',
                                                      native_enum=False, length=32),
                                      nullable=False, server_default='caseworker'))
        batch_op.add_column(sa.Column('team', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=False, server_default='ru'))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                      server_default='Asia/Tashkent'))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_unique_constraint('uq_caseworkers_username', ['username'])
    op.create_table(
        'console_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('caseworker_id', sa.Integer(), nullable=False),
        sa.Column('created_at', bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['caseworker_id'], ['caseworkers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_console_sessions_caseworker_id', 'console_sessions', ['caseworker_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_console_sessions_caseworker_id', table_name='console_sessions')
    op.drop_table('console_sessions')
    with op.batch_alter_table('caseworkers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_caseworkers_username', type_='unique')
        for column in ('active', 'locked_until', 'failed_logins', 'time_zone', 'locale', 'team', 'role',
                       'password_hash', 'username'):
            batch_op.drop_column(column)
