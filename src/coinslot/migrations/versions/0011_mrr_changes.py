"""mrr_changes: the history of each subscription's monthly amount, for expansion, contraction, churn and
net revenue retention per month (issue 18)

Online-safe like 0008: it only adds a new, empty table that the previous release never reads or writes,
so it runs while that release still serves; its indexes are built on the empty table. Nothing is
backfilled (Stripe keeps no history of a subscription's amounts that is cheap to read): a subscription
mirrored before this revision gets an `opening` row, its amount then, at its first sync after it
(`coinslot reconcile` syncs them all at once), and the figures say from when the history starts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mrr_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('mrr_before_minor_num', sa.BigInteger(), nullable=True),
    sa.Column('mrr_before_minor_den', sa.BigInteger(), nullable=True),
    sa.Column('mrr_after_minor_num', sa.BigInteger(), nullable=False),
    sa.Column('mrr_after_minor_den', sa.BigInteger(), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_mrr_changes_customer_id_customers')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'],
                            name=op.f('fk_mrr_changes_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mrr_changes'))
    )
    with op.batch_alter_table('mrr_changes', schema=None) as batch_op:
        batch_op.create_index('ix_mrr_changes_subscription_id_id', ['subscription_id', 'id'], unique=False)
        batch_op.create_index('ix_mrr_changes_at', ['at'], unique=False)


def downgrade() -> None:
    op.drop_table('mrr_changes')
