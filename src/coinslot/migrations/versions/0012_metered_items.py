"""subscriptions.metered_price_id and overage_reports.period_end (issue 17: overage only where Stripe bills it)

`subscriptions.metered_price_id`: the metered price of the plan's overage when the subscription carries it
as an item. `check` and `consume` allow overage only then: a subscription started before its plan gained
overage has no metered item, and Stripe would bill nothing of it. `overage_reports.period_end`: the end of
the billing period a use fell in, so a report sent after that period's invoice was finalized raises an
alert instead of being lost silently.

Online-safe like 0010: two nullable columns with no default (on PostgreSQL catalog-only changes, no table
rewrite), which the previous release ignores. A subscription row stays NULL (no overage allowed) until its
next snapshot: after upgrading, `coinslot overage attach` re-reads every live subscription on a plan with
overage, records the metered items they carry and adds the missing ones (docs/catalog.md, "Overage").

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coinslot.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        # subscriptions is read on every check: give up after a few seconds rather than queue every later
        # reader behind an ALTER waiting for a long transaction; `coinslot migrate` retries.
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column('subscriptions', sa.Column('metered_price_id', sa.String(length=255), nullable=True))
    op.add_column('overage_reports', sa.Column('period_end', coinslot.db.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('overage_reports') as batch_op:
        batch_op.drop_column('period_end')
    with op.batch_alter_table('subscriptions') as batch_op:
        batch_op.drop_column('metered_price_id')
