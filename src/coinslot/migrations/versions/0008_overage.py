"""overage_reports: overage ledger entries on their way to Stripe as meter events (issue 17)

Online-safe like 0002: it only adds a new, empty table that the previous release never reads or
writes, so it runs while that release still serves; its indexes are built on the empty table, in
the same statement window, and lock nothing anyone else uses. The `overage` ledger entries it
reports are rows of `ledger_entries` as before (a new value of `kind`, no new column).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('overage_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('identifier', sa.String(length=100), nullable=False),
    sa.Column('credits', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reported_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_until', coinslot.db.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_overage_reports_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_pk'], ['ledger_entries.id'],
                            name=op.f('fk_overage_reports_entry_pk_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overage_reports')),
    sa.UniqueConstraint('entry_pk', name=op.f('uq_overage_reports_entry_pk')),
    sa.UniqueConstraint('identifier', name=op.f('uq_overage_reports_identifier'))
    )
    with op.batch_alter_table('overage_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overage_reports_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_overage_reports_status_next_attempt_at', ['status', 'next_attempt_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('overage_reports')
