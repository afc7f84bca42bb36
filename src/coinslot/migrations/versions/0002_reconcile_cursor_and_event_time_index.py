"""the backfill's cursor (sync_cursors) and an index on webhook_events.stripe_created

Written the way every revision after the first is: it runs while the previous release still
serves, so it only adds. The new table is empty and unknown to the old code; the index is built
CONCURRENTLY on PostgreSQL (outside the migration's transaction: no lock that blocks the inbox's
inserts while it builds), IF NOT EXISTS so that a rerun after an interrupted build goes on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 17:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

INDEX = 'ix_webhook_events_stripe_created'


def upgrade() -> None:
    op.create_table('sync_cursors',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=True),
    sa.Column('finished_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_until', coinslot.db.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sync_cursors'))
    )
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            # An interrupted CONCURRENTLY build leaves an INVALID index behind: drop it, build again.
            invalid = op.get_bind().execute(sa.text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace"
            ), {"name": INDEX}).scalar()
            if invalid:
                op.drop_index(INDEX, table_name='webhook_events', postgresql_concurrently=True)
            op.create_index(INDEX, 'webhook_events', ['stripe_created'],
                            unique=False, postgresql_concurrently=True, if_not_exists=True)
    else:
        op.create_index(INDEX, 'webhook_events', ['stripe_created'],
                        unique=False, if_not_exists=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name='webhook_events')
    op.drop_table('sync_cursors')
