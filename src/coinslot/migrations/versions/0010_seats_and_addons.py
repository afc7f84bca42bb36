"""The add-ons a mirrored subscription bills ({add-on key: quantity}, subscriptions.addons): their credits
are granted with the plan's on each paid invoice and their features unlock in `check`. Seats need no
column: they are the plan item's quantity (0005's `quantity`).

Online-safe like 0005: one nullable column with no default (on PostgreSQL a catalog-only change, no
table rewrite), which the previous release ignores. A row stays NULL (no add-ons) until its next
snapshot; no subscription had add-ons before this release.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        # subscriptions is read on every check: give up after a few seconds rather than queue every later
        # reader behind an ALTER waiting for a long transaction; `coinslot migrate` retries.
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column('subscriptions', sa.Column('addons', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch_op:
        batch_op.drop_column('addons')
