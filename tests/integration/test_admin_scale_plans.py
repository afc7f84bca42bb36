"""The admin console's lists and the analytics figures read indexes at scale, on PostgreSQL.

100,000 customers, 1,000,000 stored webhook events and 500,000 ledger entries over a year are
generated in SQL (`generate_series`, a few seconds), the statistics gathered, then every statement
the console's pages and the figures send is captured as sent and asked for its plan (EXPLAIN): none
may read a big table whole (a Seq Scan), and the lists page by keyset (`id < ?`, newest first), so a
deep page costs what the first does. Plans, not timings: timings are measured in bench/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from coinslot.alerts import service as alerts
from coinslot.analytics import service as analytics
from coinslot.catalog.parser import load_catalog
from coinslot.customers import service as customers
from coinslot.db import Database
from coinslot.webhooks import service as events
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "examples" / "catalogs" / "patch_hive.toml")
NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
BIG_TABLES = ("customers", "webhook_events", "webhook_attempts", "ledger_entries")
CUSTOMERS, EVENTS, ENTRIES = 100_000, 1_000_000, 500_000

_SEED = [
    f"""INSERT INTO customers (host_user_id, email, name, stripe_customer_id, livemode, created_at,
               updated_at)
        SELECT 'user-' || g, 'user' || g || '@example.com', 'User ' || g, 'cus_' || g, false,
               TIMESTAMP '2025-11-15' + g * INTERVAL '5 minutes', TIMESTAMP '2026-11-15'
        FROM generate_series(1, {CUSTOMERS}) AS g""",
    f"""INSERT INTO subscriptions (customer_id, stripe_subscription_id, status, plan_key, interval,
               current_period_start, current_period_end, cancel_at_period_end, snapshot_at_ms, currency,
               unit_amount_minor, quantity, interval_count, period_amount_minor, created_at, updated_at)
        SELECT g, 'sub_' || g, (ARRAY['active', 'active', 'active', 'canceled', 'past_due'])[g % 5 + 1],
               (ARRAY['core', 'pro', 'studio'])[g % 3 + 1], 'month', TIMESTAMP '2026-11-01',
               TIMESTAMP '2026-12-01', false, 0, 'usd', 499, 1, 1, 499,
               TIMESTAMP '2025-11-15' + g * INTERVAL '5 minutes', TIMESTAMP '2026-11-15'
        FROM generate_series(1, {CUSTOMERS}, 5) AS g""",
    f"""INSERT INTO webhook_events (stripe_event_id, type, livemode, api_version, object_id, payload,
               stripe_created, received_at, status, attempts, next_attempt_at)
        SELECT 'evt_' || g, (ARRAY['invoice.paid', 'customer.subscription.updated', 'charge.succeeded',
               'invoice.created'])[g % 4 + 1], false, '2026-10-28.endive', 'obj_' || (g % 50000),
               '{{"id": "evt_' || g || '", "object": "event", "data": {{"object": {{"pad": "'
               || repeat('x', 300) || '"}}}}}}', 1763000000 + g,
               TIMESTAMP '2025-11-15' + g * INTERVAL '30 seconds',
               CASE WHEN g % 10000 = 0 THEN 'dead' WHEN g % 4 = 2 THEN 'ignored' ELSE 'processed' END,
               1, NULL
        FROM generate_series(1, {EVENTS}) AS g""",
    f"""INSERT INTO ledger_entries (entry_id, customer_id, kind, credits, available_delta, held_delta,
               debt_delta, balance_after, feature, fingerprint, created_at)
        SELECT 'seed:' || g, g % {CUSTOMERS} + 1, CASE WHEN g % 10 = 0 THEN 'grant' ELSE 'spend' END, 3,
               CASE WHEN g % 10 = 0 THEN 25 ELSE -3 END, 0, 0, 10,
               CASE WHEN g % 10 = 0 THEN NULL ELSE 'export' END, 'seed',
               TIMESTAMP '2025-11-15' + g * INTERVAL '1 minute'
        FROM generate_series(1, {ENTRIES}) AS g""",
    f"""INSERT INTO webhook_attempts (event_id, number, worker, started_at, finished_at, outcome)
        SELECT g * 10, 1, 'worker-1', TIMESTAMP '2025-11-15', TIMESTAMP '2025-11-15', 'processed'
        FROM generate_series(1, {EVENTS // 10}) AS g""",
]
# Secondary indexes are dropped while the rows go in and built after (each row would update them
# one by one), then rebuilt from their own definitions: the plans see the same indexes.
_SECONDARY = """SELECT i.indexname, i.indexdef FROM pg_indexes i
    WHERE i.schemaname = current_schema()
      AND i.tablename IN ('webhook_events', 'ledger_entries', 'webhook_attempts')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""


@pytest.fixture(scope="module")
def big_db(postgres: PostgresServer, postgres_template: str) -> Iterator[Database]:
    name = postgres.create_database(template=postgres_template)
    database = Database(postgres.url(name))
    with database.engine.begin() as connection:
        secondary = connection.execute(text(_SECONDARY)).all()
        for name, _ in secondary:
            connection.execute(text(f'DROP INDEX "{name}"'))
        for statement in _SEED:
            connection.execute(text(statement))
        for _, definition in secondary:
            connection.execute(text(definition))
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # The statistics and the visibility a live, autovacuumed database has.
        connection.execute(text("VACUUM (ANALYZE) customers, subscriptions, webhook_events, "
                                "webhook_attempts, ledger_entries"))
    yield database
    database.dispose()
    postgres.drop_database(name)


def _sent(database: Database, read: Any) -> list[tuple[str, Any]]:
    """Every statement `read(session)` sends, with its parameters."""
    captured: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", keep)
    try:
        with database.unit_of_work(read_only=True) as session:
            read(session)
    finally:
        event.remove(database.engine, "before_cursor_execute", keep)
    assert captured
    return captured


def _plan(database: Database, statement: str, parameters: Any) -> str:
    raw = database.engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN " + statement, parameters)
            return "\n".join(row[0] for row in cursor.fetchall())
    finally:
        raw.close()


def _assert_no_big_table_read_whole(database: Database, read: Any) -> None:
    for statement, parameters in _sent(database, read):
        plan = _plan(database, statement, parameters)
        whole = [table for table in BIG_TABLES if re.search(rf"Seq Scan on {table}\b", plan)]
        assert not whole, f"{statement}\n{plan}"


def test_the_webhook_events_list_pages_by_keyset_on_indexes(big_db: Database) -> None:
    first = _sent(big_db, lambda s: events.list_events(s, limit=200))
    assert "ORDER BY webhook_events.id DESC" in first[0][0]
    _assert_no_big_table_read_whole(big_db, lambda s: events.list_events(s, limit=200))
    _assert_no_big_table_read_whole(big_db, lambda s: events.list_events(s, before_id=500_000, limit=200))
    _assert_no_big_table_read_whole(big_db, lambda s: events.list_events(s, status="dead", limit=200))
    _assert_no_big_table_read_whole(big_db, lambda s: events.list_events(s, event_type="invoice.paid",
                                                                         before_id=400_000, limit=200))
    _assert_no_big_table_read_whole(big_db, lambda s: events.list_events(s, object_id="obj_42", limit=200))
    _assert_no_big_table_read_whole(big_db, lambda s: events.get_event(s, event_ref="evt_777"))


def test_the_console_s_backlog_and_alerts_read_indexes(big_db: Database) -> None:
    # Not `events.counts` (every status's total, on the overview and the events page): a count of all
    # 1M rows by status is a scan whatever the index; see docs/benchmarks.md for what would move it.
    _assert_no_big_table_read_whole(big_db, events.backlog)
    _assert_no_big_table_read_whole(big_db, lambda s: alerts.list_alerts(s, unacknowledged_only=True,
                                                                         limit=10))


def test_the_customer_list_reads_the_newest_by_index(big_db: Database) -> None:
    _assert_no_big_table_read_whole(big_db, lambda s: customers.find_customers(s, text=""))
    _assert_no_big_table_read_whole(big_db, lambda s: customers.get_by_id(s, customer_id=54_321))


def test_the_figures_read_indexes(big_db: Database) -> None:
    _assert_no_big_table_read_whole(big_db, lambda s: analytics.figures(s, catalog=CATALOG, now=NOW))
