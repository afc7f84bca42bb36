"""Skipping the re-read of an object an event shows in a final state leaves the same mirror as reading it.

Stripe sends the events of a few lives (a subscription paid then canceled at once, one that stays,
a pack of credits) into coinslot's inbox. A twin database is a copy of coinslot's at that moment,
events unapplied. coinslot applies them skipping the re-reads of paid invoices, canceled
subscriptions and completed Checkouts that sold a plan (webhooks/settled.py); the twin applies them
re-reading everything from the same stripesim, at the same injected time. Every table the events
write must end identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, select, text

from coinslot.clock import FixedClock
from coinslot.container import Container
from coinslot.db import Base, Database
from coinslot.webhooks.reader import GatewayReader
from coinslot.webhooks.worker import process_due
from tests.conftest import create_schema
from tests.e2e.billing import buy_credits, push_catalog, subscribe
from tests.support.postgres import PostgresServer
from tests.support.stack import Stack

# Written by applying events, compared whole but for the columns naming a worker, a random message id
# or timing the work.
COMPARED = ("customers", "subscriptions", "credit_balances", "credit_lots", "credit_holds", "ledger_entries",
            "credit_movements", "orders", "checkout_sessions", "outbox", "alerts", "webhook_events")
NOT_COMPARED = {"locked_by", "locked_until", "duration_ms", "last_error", "traceback", "webhook_id"}


@pytest.fixture
def twin_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second, migrated, empty database of the same kind."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'twin.db'}"
        create_schema(url)
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database(template=request.getfixturevalue("postgres_template"))
    yield server.url(name)
    server.drop_database(name)


def copy_database(source: Database, target: Database) -> None:
    """Every row of every coinslot table, in foreign-key order; PostgreSQL's id sequences follow."""
    with source.engine.connect() as reading, target.engine.begin() as writing:
        for table in Base.metadata.sorted_tables:
            rows = [dict(row) for row in reading.execute(select(table)).mappings()]
            if rows:
                writing.execute(insert(table), rows)
            if not target.is_sqlite and "id" in table.c and rows:
                top = writing.execute(select(func.max(table.c.id))).scalar()
                writing.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                                {"t": table.name, "v": top})


def apply_everything(container: Container, *, skip_settled: bool) -> int:
    """Apply every due event, batch after batch, with a fresh reader each; the re-reads skipped."""
    skipped = 0
    while True:
        reader = GatewayReader(lambda: container.gateway, container.clock, skip_settled=skip_settled)
        if process_due(container, limit=1000, reader=reader) == 0:
            return skipped
        skipped += reader.reads_skipped


def contents(db: Database) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, Table] = {table.name: table for table in Base.metadata.sorted_tables}
    found: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as connection:
        for name in COMPARED:
            table = tables[name]
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            found[name] = [{k: v for k, v in row.items() if k not in NOT_COMPARED} for row in rows]
    return found


def test_skipped_rereads_of_final_invoices_subscriptions_and_checkouts_leave_the_same_mirror(
    stack: Stack, twin_url: str
) -> None:
    push_catalog(stack)
    _, leaving = subscribe(stack, "ada", plan="core")
    stack.stripe.v1.subscriptions.cancel(leaving)  # customer.subscription.deleted: canceled, final
    subscribe(stack, "bob", plan="pro")
    buy_credits(stack, "cy", 25)
    stack.sim.dispatcher.flush()  # every event stored, none applied yet
    twin = Database(twin_url)
    try:
        copy_database(stack.container.db, twin)
        at = stack.clock.now()  # both apply at the same injected time: their rows compare whole
        settings = stack.container.settings
        skipping = Container(settings=settings, db=stack.container.db, clock=FixedClock(at))
        rereading = Container(settings=settings, db=twin, clock=FixedClock(at))
        # 2 paid invoices, 1 canceled subscription, 2 completed Checkouts that sold a plan (not the pack's)
        assert apply_everything(skipping, skip_settled=True) >= 5
        assert apply_everything(rereading, skip_settled=False) == 0
        mine, theirs = contents(stack.container.db), contents(twin)
        assert {row["status"] for row in mine["webhook_events"]} <= {"processed", "ignored"}
        assert [row["status"] for row in mine["subscriptions"]] == ["canceled", "active"]
        assert len(mine["ledger_entries"]) >= 3
        for name in COMPARED:
            assert mine[name] == theirs[name], name
    finally:
        twin.dispose()
