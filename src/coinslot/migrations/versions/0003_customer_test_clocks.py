"""Stripe test clocks (stripe_test_clocks) and the clock a customer lives on (customers.stripe_test_clock_id)

Only adds (a table, a nullable column): safe while the previous release serves.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 20:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stripe_test_clocks',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('frozen_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('updated_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_test_clocks'))
    )
    op.add_column('customers', sa.Column('stripe_test_clock_id', sa.String(length=255), nullable=True))


def downgrade() -> None:
    op.drop_column('customers', 'stripe_test_clock_id')
    op.drop_table('stripe_test_clocks')
