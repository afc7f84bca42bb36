"""A PostgreSQL database the size of a busy year, for the admin console's reads: the EXPLAIN test
(tests/integration/test_admin_scale_plans.py) asks it for plans, the benchmark (bench admin_scale)
for timings, on the same rows.

At full size: 100,000 customers (a fifth subscribed), 1,000,000 stored webhook events (a quarter
ignored, one in 10,000 dead, the rest processed), 100,000 attempts and 500,000 ledger entries over a
year, generated in SQL (`generate_series`, seconds instead of the minutes the services would take).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from coinslot.db import Database

__all__ = ["BIG_TABLES", "FULL", "ConsoleScale", "seed_console"]

# The tables that grow with the business: no console read may scan one whole.
BIG_TABLES = ("customers", "webhook_events", "webhook_attempts", "ledger_entries")


@dataclass(frozen=True, slots=True)
class ConsoleScale:
    customers: int
    events: int
    entries: int  # ledger entries


FULL = ConsoleScale(customers=100_000, events=1_000_000, entries=500_000)


def _statements(scale: ConsoleScale) -> list[str]:
    """The INSERT ... SELECT of each table; every piece is a number or a constant of this module."""
    customers, events, entries = scale.customers, scale.events, scale.entries
    return [
        f"""INSERT INTO customers (host_user_id, email, name, stripe_customer_id, livemode, created_at,
                   updated_at)
            SELECT 'user-' || g, 'user' || g || '@example.com', 'User ' || g, 'cus_' || g, false,
                   TIMESTAMP '2025-11-15' + g * INTERVAL '5 minutes', TIMESTAMP '2026-11-15'
            FROM generate_series(1, {customers}) AS g""",
        f"""INSERT INTO subscriptions (customer_id, stripe_subscription_id, status, plan_key, interval,
                   current_period_start, current_period_end, cancel_at_period_end, snapshot_at_ms, currency,
                   unit_amount_minor, quantity, interval_count, period_amount_minor, created_at, updated_at)
            SELECT g, 'sub_' || g, (ARRAY['active', 'active', 'active', 'canceled', 'past_due'])[g % 5 + 1],
                   (ARRAY['core', 'pro', 'studio'])[g % 3 + 1], 'month', TIMESTAMP '2026-11-01',
                   TIMESTAMP '2026-12-01', false, 0, 'usd', 499, 1, 1, 499,
                   TIMESTAMP '2025-11-15' + g * INTERVAL '5 minutes', TIMESTAMP '2026-11-15'
            FROM generate_series(1, {customers}, 5) AS g""",
        f"""INSERT INTO webhook_events (stripe_event_id, type, livemode, api_version, object_id, payload,
                   stripe_created, received_at, status, attempts, next_attempt_at)
            SELECT 'evt_' || g, (ARRAY['invoice.paid', 'customer.subscription.updated', 'charge.succeeded',
                   'invoice.created'])[g % 4 + 1], false, '2026-10-28.endive', 'obj_' || (g % 50000),
                   '{{"id": "evt_' || g || '", "object": "event", "data": {{"object": {{"pad": "'
                   || repeat('x', 300) || '"}}}}}}', 1763000000 + g,
                   TIMESTAMP '2025-11-15' + g * INTERVAL '30 seconds',
                   CASE WHEN g % 10000 = 0 THEN 'dead' WHEN g % 4 = 2 THEN 'ignored' ELSE 'processed' END,
                   1, NULL
            FROM generate_series(1, {events}) AS g""",
        f"""INSERT INTO ledger_entries (entry_id, customer_id, kind, credits, available_delta, held_delta,
                   debt_delta, balance_after, feature, fingerprint, created_at)
            SELECT 'seed:' || g, g % {customers} + 1, CASE WHEN g % 10 = 0 THEN 'grant' ELSE 'spend' END, 3,
                   CASE WHEN g % 10 = 0 THEN 25 ELSE -3 END, 0, 0, 10,
                   CASE WHEN g % 10 = 0 THEN NULL ELSE 'export' END, 'seed',
                   TIMESTAMP '2025-11-15' + g * INTERVAL '1 minute'
            FROM generate_series(1, {entries}) AS g""",
        f"""INSERT INTO webhook_attempts (event_id, number, worker, started_at, finished_at, outcome)
            SELECT g * 10, 1, 'worker-1', TIMESTAMP '2025-11-15', TIMESTAMP '2025-11-15', 'processed'
            FROM generate_series(1, {events // 10}) AS g""",
    ]


# Secondary indexes are dropped while the rows go in and built after (each row would update them
# one by one), then rebuilt from their own definitions: the plans see the same indexes.
_SECONDARY = """SELECT i.indexname, i.indexdef FROM pg_indexes i
    WHERE i.schemaname = current_schema()
      AND i.tablename IN ('webhook_events', 'ledger_entries', 'webhook_attempts')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""


def seed_console(database: Database, scale: ConsoleScale = FULL) -> None:
    """Fill an empty, migrated PostgreSQL database with `scale`'s rows, then VACUUM (ANALYZE) it."""
    with database.engine.begin() as connection:
        secondary = connection.execute(text(_SECONDARY)).all()
        for name, _ in secondary:
            connection.execute(text(f'DROP INDEX "{name}"'))
        for statement in _statements(scale):
            connection.execute(text(statement))
        for _, definition in secondary:
            connection.execute(text(definition))
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # The statistics and the visibility a live, autovacuumed database has.
        connection.execute(text("VACUUM (ANALYZE) customers, subscriptions, webhook_events, "
                                "webhook_attempts, ledger_entries"))
