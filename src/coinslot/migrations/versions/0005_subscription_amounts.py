"""What a mirrored subscription bills: currency, the plan item's unit amount and quantity, the interval
count, the amount per billing period of all its items, what its discounts take off, and when the first
of them ends (subscriptions.*), so that MRR counts real amounts instead of catalog list prices

Online-safe like 0002: it only adds nullable columns with no default (on PostgreSQL a catalog-only
change, no table rewrite), which the previous release ignores. Rows stay NULL until their next snapshot
(a webhook, or `coinslot reconcile`, which re-reads every subscription); until then the figures value
them at the catalog price and say how many they estimated.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        # subscriptions is read on every check: an ALTER queued behind a long transaction would hold
        # every later reader behind it. Give up after a few seconds instead; `coinslot migrate` retries.
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column('subscriptions', sa.Column('currency', sa.String(length=3), nullable=True))
    op.add_column('subscriptions', sa.Column('unit_amount_minor', sa.BigInteger(), nullable=True))
    op.add_column('subscriptions', sa.Column('quantity', sa.Integer(), nullable=True))
    op.add_column('subscriptions', sa.Column('interval_count', sa.Integer(), nullable=True))
    op.add_column('subscriptions', sa.Column('period_amount_minor', sa.BigInteger(), nullable=True))
    op.add_column('subscriptions', sa.Column('period_discount_minor', sa.BigInteger(), nullable=True))
    op.add_column('subscriptions', sa.Column('discount_ends_at', coinslot.db.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch_op:
        batch_op.drop_column('discount_ends_at')
        batch_op.drop_column('period_discount_minor')
        batch_op.drop_column('period_amount_minor')
        batch_op.drop_column('interval_count')
        batch_op.drop_column('quantity')
        batch_op.drop_column('unit_amount_minor')
        batch_op.drop_column('currency')
