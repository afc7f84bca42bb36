"""indexes of the read paths at scale (issue 15): ledger_entries.lot_id and (kind, created_at)

- `ix_ledger_entries_lot_id`: "is this lazily granted period granted yet" (the check's one statement,
  `ledger.repository.period_opening_entry_id`) joins a period's lots to their grant entry by lot id;
  without it that join read every entry, a cost that grows with the ledger.
- `ix_ledger_entries_kind_created_at`: the figures' credits granted by kind and consumed by feature
  since the month's start read the month's entries of those kinds, not the whole history
  (tests/integration/test_admin_scale_plans.py checks the plans).

Only adds, like 0002: built CONCURRENTLY on PostgreSQL (outside the migration's transaction, so the
ledger's writes go on while they build), IF NOT EXISTS after dropping one an interrupted build left
INVALID.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_ledger_entries_lot_id': ['lot_id'],
    'ix_ledger_entries_kind_created_at': ['kind', 'created_at'],
}


def upgrade() -> None:
    if op.get_context().dialect.name != 'postgresql':
        for name, columns in INDEXES.items():
            op.create_index(name, 'ledger_entries', columns, unique=False, if_not_exists=True)
        return
    with op.get_context().autocommit_block():
        for name, columns in INDEXES.items():
            invalid = op.get_bind().execute(sa.text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace"
            ), {"name": name}).scalar()
            if invalid:
                op.drop_index(name, table_name='ledger_entries', postgresql_concurrently=True)
            op.create_index(name, 'ledger_entries', columns, unique=False, postgresql_concurrently=True,
                            if_not_exists=True)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name='ledger_entries')
