"""The admin console's lists and the analytics figures read indexes at scale, on PostgreSQL.

100,000 customers, 1,000,000 stored webhook events and 500,000 ledger entries over a year are
generated in SQL (tests/support/console_scale.py, a few seconds), the statistics gathered, then every
statement the console's pages and the figures send is captured as sent and asked for its plan
(EXPLAIN): none may read a big table whole (a Seq Scan), the lists page by keyset (`id < ?`, newest
first), so a deep page costs what the first does, and the status counts read the status index, the
finished statuses up to a cap. Plans, not timings: the same rows are timed by `python -m bench --only
admin_scale`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from coinslot.alerts import service as alerts
from coinslot.analytics import service as analytics
from coinslot.catalog.parser import load_catalog
from coinslot.customers import service as customers
from coinslot.db import Database
from coinslot.queue.service import COUNT_CAP, StatusCount
from coinslot.webhooks import service as events
from tests.support.console_scale import BIG_TABLES, FULL, seed_console
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "examples" / "catalogs" / "patch_hive.toml")
NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def big_db(postgres: PostgresServer, postgres_template: str) -> Iterator[Database]:
    name = postgres.create_database(template=postgres_template)
    database = Database(postgres.url(name))
    seed_console(database, FULL)
    yield database
    database.dispose()
    postgres.drop_database(name)


def _sent(database: Database, read: Any) -> list[tuple[str, Any]]:
    """Every statement `read(session)` sends, with its parameters."""
    captured: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
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


def test_the_console_s_counts_backlog_and_alerts_read_indexes(big_db: Database) -> None:
    _assert_no_big_table_read_whole(big_db, events.counts)
    _assert_no_big_table_read_whole(big_db, events.dead_count)
    _assert_no_big_table_read_whole(big_db, events.backlog)
    _assert_no_big_table_read_whole(big_db, lambda s: alerts.list_alerts(s, unacknowledged_only=True,
                                                                         limit=10))


def test_the_status_counts_stop_at_the_cap_for_finished_events_only(big_db: Database) -> None:
    with big_db.unit_of_work(read_only=True) as session:
        counts = events.counts(session)
    capped = StatusCount(COUNT_CAP, at_least=True)
    assert counts == {"processed": capped, "ignored": capped, "dead": StatusCount(FULL.events // 10_000)}


def test_the_customer_list_pages_by_keyset_on_its_index(big_db: Database) -> None:
    first = _sent(big_db, lambda s: customers.find_customers(s, text=""))
    assert "ORDER BY customers.id DESC" in first[0][0]
    _assert_no_big_table_read_whole(big_db, lambda s: customers.find_customers(s, text=""))
    _assert_no_big_table_read_whole(big_db, lambda s: customers.find_customers(s, text="", before_id=20_000))
    _assert_no_big_table_read_whole(big_db, lambda s: customers.get_by_id(s, customer_id=54_321))


def test_the_figures_read_indexes(big_db: Database) -> None:
    _assert_no_big_table_read_whole(big_db, lambda s: analytics.figures(s, catalog=CATALOG, now=NOW))
