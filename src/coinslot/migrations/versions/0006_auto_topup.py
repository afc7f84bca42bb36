"""Auto top-up: each customer's consent and saved card (auto_topup_settings), and each top-up charged
or tried (auto_topups, a queue the worker charges from), at most one open per customer (a partial
unique index: concurrent spends trigger one top-up)

Online-safe like 0002: it only adds two new tables, empty and unknown to the previous release, which
keeps serving meanwhile; their indexes are built on empty tables, so they lock nothing anyone uses. No
existing table is altered, so no lock_timeout is needed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_OPEN = "status IN ('pending', 'charging', 'failed')"  # models/auto_topup.py: one open per customer


def upgrade() -> None:
    op.create_table('auto_topup_settings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('pack_key', sa.String(length=100), nullable=True),
    sa.Column('stripe_payment_method_id', sa.String(length=255), nullable=True),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('consent_terms', sa.Text(), nullable=True),
    sa.Column('consented_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('setup_session_id', sa.String(length=255), nullable=True),
    sa.Column('setup_url', sa.Text(), nullable=True),
    sa.Column('notice_code', sa.String(length=60), nullable=True),
    sa.Column('notice', sa.Text(), nullable=True),
    sa.Column('disabled_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('updated_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_auto_topup_settings_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auto_topup_settings')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_auto_topup_settings_customer_id')),
    sa.UniqueConstraint('setup_session_id', name=op.f('uq_auto_topup_settings_setup_session_id'))
    )
    op.create_table('auto_topups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('trigger_entry_id', sa.String(length=300), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('pack_key', sa.String(length=100), nullable=False),
    sa.Column('credits', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stripe_payment_method_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('failure_code', sa.String(length=60), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('ledger_entry_id', sa.String(length=300), nullable=True),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('resolved_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_until', coinslot.db.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_auto_topups_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auto_topups')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_auto_topups_stripe_payment_intent_id')),
    sa.UniqueConstraint('trigger_entry_id', name=op.f('uq_auto_topups_trigger_entry_id'))
    )
    op.create_index('ix_auto_topups_customer_id_month', 'auto_topups', ['customer_id', 'month'], unique=False)
    op.create_index('ix_auto_topups_status_next_attempt_at', 'auto_topups', ['status', 'next_attempt_at'],
                    unique=False)
    op.create_index('uq_auto_topups_open_customer_id', 'auto_topups', ['customer_id'], unique=True,
                    sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))



def downgrade() -> None:
    op.drop_index('uq_auto_topups_open_customer_id', table_name='auto_topups')
    op.drop_index('ix_auto_topups_status_next_attempt_at', table_name='auto_topups')
    op.drop_index('ix_auto_topups_customer_id_month', table_name='auto_topups')
    op.drop_table('auto_topups')
    op.drop_table('auto_topup_settings')
