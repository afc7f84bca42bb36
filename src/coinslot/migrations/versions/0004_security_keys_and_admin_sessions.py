"""API keys get scopes, an expiry and a last-used time; the admin console gets server-side sessions and
an atomic login throttle

Online-safe like 0002: it only adds, while the previous release still serves. The three api_keys columns
are nullable with no default (on PostgreSQL a catalog-only change, no table rewrite), and a NULL `scopes`
means a key made before this revision: it keeps every scope (`coinslot keys list` flags it legacy), so
no backend loses access on upgrade. The previous release ignores the columns it does not know. The two
new tables are empty and unknown to it.

api_keys is read on every API call, and an ALTER TABLE queued behind a long transaction would hold every
later reader behind it: on PostgreSQL the ALTER gives up after a few seconds instead (lock_timeout), and
`coinslot migrate` can be run again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column('api_keys', sa.Column('scopes', sa.String(length=200), nullable=True))
    op.add_column('api_keys', sa.Column('expires_at', coinslot.db.UtcDateTime(), nullable=True))
    op.add_column('api_keys', sa.Column('last_used_at', coinslot.db.UtcDateTime(), nullable=True))
    op.create_table('admin_sessions',
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('password_tag', sa.String(length=64), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('expires_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('token_sha256', name=op.f('pk_admin_sessions'))
    )
    # A new, empty table: an ordinary CREATE INDEX locks nothing anyone is using.
    op.create_index(op.f('ix_admin_sessions_expires_at'), 'admin_sessions', ['expires_at'], unique=False)
    op.create_table('admin_login_attempts',
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('window_started_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('actor', name=op.f('pk_admin_login_attempts'))
    )


def downgrade() -> None:
    op.drop_table('admin_login_attempts')
    op.drop_index(op.f('ix_admin_sessions_expires_at'), table_name='admin_sessions')
    op.drop_table('admin_sessions')
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
