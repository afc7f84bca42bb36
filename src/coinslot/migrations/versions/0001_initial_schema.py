"""initial schema: customers, subscriptions, orders and checkout attempts, the webhook inbox,
the credits ledger, the outbox, alerts, API keys, admin audit and signed-link uses.

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 12:13:17.483200
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db
import coinslot.models.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit'))
    )
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_audit_at'), ['at'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('subject_type', sa.String(length=50), nullable=True),
    sa.Column('subject_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('acknowledged_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_created_at'), ['created_at'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('revoked_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('secret_sha256', name=op.f('uq_api_keys_secret_sha256'))
    )
    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('host_user_id', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=True),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('updated_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('host_user_id', name=op.f('uq_customers_host_user_id')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_customers_stripe_customer_id'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('webhook_id', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delivered_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_until', coinslot.db.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('webhook_id', name=op.f('uq_outbox_webhook_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_event_type'), ['event_type'], unique=False)
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('used_signed_links',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('used_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('expires_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_used_signed_links'))
    )
    with op.batch_alter_table('used_signed_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_signed_links_expires_at'), ['expires_at'], unique=False)

    op.create_table('webhook_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stripe_event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('api_version', sa.String(length=64), nullable=True),
    sa.Column('object_id', sa.String(length=255), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('stripe_created', sa.BigInteger(), nullable=False),
    sa.Column('received_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_traceback', sa.Text(), nullable=True),
    sa.Column('processed_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_until', coinslot.db.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('stripe_event_id', name=op.f('uq_webhook_events_stripe_event_id'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_events_object_id'), ['object_id'], unique=False)
        batch_op.create_index('ix_webhook_events_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_events_type'), ['type'], unique=False)

    op.create_table('credit_balances',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('available_credits', sa.BigInteger(), nullable=False),
    sa.Column('held_credits', sa.BigInteger(), nullable=False),
    sa.Column('debt_credits', sa.BigInteger(), nullable=False),
    sa.Column('period_credits', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_balances_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_credit_balances'))
    )
    op.create_table('credit_holds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.String(length=255), nullable=False),
    sa.Column('credits', sa.BigInteger(), nullable=False),
    sa.Column('feature', sa.String(length=100), nullable=True),
    sa.Column('unlimited', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('resolved_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_holds_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_holds')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_credit_holds_entry_id'))
    )
    with op.batch_alter_table('credit_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_holds_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_credit_holds_status_expires_at', ['status', 'expires_at'], unique=False)

    op.create_table('credit_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('original_credits', sa.BigInteger(), nullable=False),
    sa.Column('remaining_credits', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('period_start', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_lots_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_lots'))
    )
    with op.batch_alter_table('credit_lots', schema=None) as batch_op:
        batch_op.create_index('ix_credit_lots_customer_period', ['customer_id', 'period_start'], unique=False)
        batch_op.create_index('ix_credit_lots_customer_remaining', ['customer_id', 'remaining_credits'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_lots_source'), ['source'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_key', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stripe_checkout_session_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('paid_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('fulfilled_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('canceled_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('updated_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_orders_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('public_id', name=op.f('uq_orders_public_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_customer_status', ['customer_id', 'status'], unique=False)

    op.create_table('subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stripe_subscription_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('plan_key', sa.String(length=100), nullable=True),
    sa.Column('interval', sa.String(length=10), nullable=True),
    sa.Column('stripe_price_id', sa.String(length=255), nullable=True),
    sa.Column('current_period_start', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('current_period_end', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('cancel_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('trial_end', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('canceled_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('ended_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('past_due_since', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('pending_plan_key', sa.String(length=100), nullable=True),
    sa.Column('snapshot_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('updated_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_subscriptions_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('stripe_subscription_id', name=op.f('uq_subscriptions_stripe_subscription_id'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_subscriptions_customer_status', ['customer_id', 'status'], unique=False)

    op.create_table('webhook_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('started_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('finished_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['webhook_events.id'], name=op.f('fk_webhook_attempts_event_id_webhook_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts'))
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempts_event_id'), ['event_id'], unique=False)

    op.create_table('checkout_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_kind', sa.String(length=10), nullable=False),
    sa.Column('item_key', sa.String(length=100), nullable=False),
    sa.Column('interval', sa.String(length=10), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stripe_session_id', sa.String(length=255), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('fulfilled_at', coinslot.db.UtcDateTime(), nullable=True),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.Column('updated_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_checkout_sessions_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_checkout_sessions_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkout_sessions')),
    sa.UniqueConstraint('stripe_session_id', name=op.f('uq_checkout_sessions_stripe_session_id'))
    )
    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkout_sessions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkout_sessions_order_id'), ['order_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.String(length=255), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('credits', sa.BigInteger(), nullable=False),
    sa.Column('available_delta', sa.BigInteger(), nullable=False),
    sa.Column('held_delta', sa.BigInteger(), nullable=False),
    sa.Column('debt_delta', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('hold_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('feature', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', coinslot.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_ledger_entries_customer_id_customers')),
    sa.ForeignKeyConstraint(['hold_id'], ['credit_holds.id'], name=op.f('fk_ledger_entries_hold_id_credit_holds')),
    sa.ForeignKeyConstraint(['lot_id'], ['credit_lots.id'], name=op.f('fk_ledger_entries_lot_id_credit_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_entries_entry_id'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_customer_created_at', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ledger_entries_customer_feature_created_at', ['customer_id', 'feature', 'created_at'], unique=False)

    op.create_table('credit_movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hold_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('credits', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['entry_pk'], ['ledger_entries.id'], name=op.f('fk_credit_movements_entry_pk_ledger_entries')),
    sa.ForeignKeyConstraint(['hold_id'], ['credit_holds.id'], name=op.f('fk_credit_movements_hold_id_credit_holds')),
    sa.ForeignKeyConstraint(['lot_id'], ['credit_lots.id'], name=op.f('fk_credit_movements_lot_id_credit_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_movements'))
    )
    with op.batch_alter_table('credit_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_movements_entry_pk'), ['entry_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_movements_hold_id'), ['hold_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_movements_lot_id'), ['lot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('credit_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_movements_lot_id'))
        batch_op.drop_index(batch_op.f('ix_credit_movements_hold_id'))
        batch_op.drop_index(batch_op.f('ix_credit_movements_entry_pk'))

    op.drop_table('credit_movements')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_customer_feature_created_at')
        batch_op.drop_index('ix_ledger_entries_customer_created_at')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkout_sessions_order_id'))
        batch_op.drop_index(batch_op.f('ix_checkout_sessions_customer_id'))

    op.drop_table('checkout_sessions')
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempts_event_id'))

    op.drop_table('webhook_attempts')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_customer_status')
        batch_op.drop_index(batch_op.f('ix_subscriptions_customer_id'))

    op.drop_table('subscriptions')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_customer_status')

    op.drop_table('orders')
    with op.batch_alter_table('credit_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_lots_source'))
        batch_op.drop_index('ix_credit_lots_customer_remaining')
        batch_op.drop_index('ix_credit_lots_customer_period')

    op.drop_table('credit_lots')
    with op.batch_alter_table('credit_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_holds_status_expires_at')
        batch_op.drop_index(batch_op.f('ix_credit_holds_customer_id'))

    op.drop_table('credit_holds')
    op.drop_table('credit_balances')
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_events_type'))
        batch_op.drop_index('ix_webhook_events_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_webhook_events_object_id'))

    op.drop_table('webhook_events')
    with op.batch_alter_table('used_signed_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_signed_links_expires_at'))

    op.drop_table('used_signed_links')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_outbox_event_type'))

    op.drop_table('outbox')
    op.drop_table('customers')
    op.drop_table('api_keys')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_created_at'))
        batch_op.drop_index(batch_op.f('ix_alerts_code'))

    op.drop_table('alerts')
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_audit_at'))

    op.drop_table('admin_audit')
