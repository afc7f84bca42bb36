"""fewer index writes per spend (issue 15): none on credit_lots.remaining_credits, partial lot/hold ones

A consume on a hot account writes one entry, one movement per lot drawn, and updates the lot and the
balance, while every other writer of the account waits. Each index on those rows is one more write:

- `ix_credit_lots_customer_remaining` is dropped. It held the column every spend changes, so no update
  of a lot could be a HOT update on PostgreSQL (the new row version on the same page, no index entries
  written). A customer's live lots are read through `ix_credit_lots_customer_period` (customer first).
- `ix_ledger_entries_lot_id` and `ix_credit_movements_hold_id` become partial (`... IS NOT NULL`): a
  spend's entry has no lot and a spend's movements no hold, so they write no entry in these indexes.
  Their readers (a period's grant entry by its lot, a hold's draws) say `IS NOT NULL`, which the
  planners of both databases need to choose a partial index for a join.

Online on PostgreSQL: each partial index is built CONCURRENTLY under a new name, then the old one is
dropped CONCURRENTLY and the new one renamed, so the readers always have one (an interrupted build
leaves an INVALID index, dropped and built again by the next `coinslot migrate`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# index name -> (table, column): rebuilt as `WHERE column IS NOT NULL`
PARTIAL = {
    'ix_ledger_entries_lot_id': ('ledger_entries', 'lot_id'),
    'ix_credit_movements_hold_id': ('credit_movements', 'hold_id'),
}


def upgrade() -> None:
    if op.get_context().dialect.name != 'postgresql':
        op.drop_index('ix_credit_lots_customer_remaining', table_name='credit_lots')
        for name, (table, column) in PARTIAL.items():
            op.drop_index(name, table_name=table)
            op.create_index(name, table, [column], sqlite_where=sa.text(f'{column} IS NOT NULL'))
        return
    with op.get_context().autocommit_block():
        op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_credit_lots_customer_remaining')
        for name, (table, column) in PARTIAL.items():
            building = f'{name}_partial'
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {building}')  # an interrupted build's
            op.execute(f'CREATE INDEX CONCURRENTLY {building} ON {table} ({column}) '
                       f'WHERE {column} IS NOT NULL')
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')
            op.execute(f'ALTER INDEX {building} RENAME TO {name}')


def downgrade() -> None:
    for name, (table, column) in PARTIAL.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
    op.create_index('ix_credit_lots_customer_remaining', 'credit_lots', ['customer_id', 'remaining_credits'])
