"""The plan version a mirrored subscription is on, and a move to another version pending until its period
ends (subscriptions.plan_version, subscriptions.pending_plan_version): entitlements follow the version
a subscriber pays for, so a catalog can change a plan for new subscribers only (grandfathering)

Online-safe like 0002 and 0005: two nullable columns with no default (on PostgreSQL a catalog-only
change, no table rewrite), which the previous release ignores. A row stays NULL until its next snapshot
(a webhook, or `coinslot reconcile`); until then it has the plan's oldest version, which is what a
price pushed before versions existed sells (docs/catalog.md, "Plan versions").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        # subscriptions is read on every check: give up after a few seconds rather than queue every
        # later reader behind an ALTER waiting for a long transaction; `coinslot migrate` retries.
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column('subscriptions', sa.Column('plan_version', sa.String(length=40), nullable=True))
    op.add_column('subscriptions', sa.Column('pending_plan_version', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch_op:
        batch_op.drop_column('pending_plan_version')
        batch_op.drop_column('plan_version')
