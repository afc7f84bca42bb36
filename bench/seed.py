"""Rows the scenarios start from, written straight into the tables (not through the services).

History is bulk-loaded with executemany (SQLite) or COPY (PostgreSQL): a
million entries through `ledger.service` would take longer than the whole
benchmark. The rows are still a ledger `credits verify` accepts: per customer
one lot funded by a grant entry, then 1-credit spends drawn from it, each with
its movement, the running `balance_after` and the balance cache.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Table
from sqlalchemy.engine import make_url

from coinslot.models import (
    CreditBalance,
    CreditLot,
    CreditMovement,
    Customer,
    LedgerEntry,
    Subscription,
)

__all__ = ["History", "LoadedHistory", "bulk_load", "grant_credits"]

GRANT_CREDITS = 1_000_000_000  # never runs out during a benchmark
BASE_TIME = dt.datetime(2026, 1, 1)  # naive UTC, the way UtcDateTime stores it


@dataclass(frozen=True, slots=True)
class History:
    customers: int
    entries: int  # total ledger entries, grants included
    hot_share_pct: int = 10  # of the entries, how many belong to the measured customer


@dataclass(frozen=True, slots=True)
class LoadedHistory:
    hot_customer_id: int
    hot_host_user_id: str
    customer_ids: list[int]
    entries: int


def _spends_per_customer(history: History) -> list[int]:
    spends = max(history.entries - history.customers, 0)
    hot = spends * history.hot_share_pct // 100
    others = history.customers - 1
    rest = spends - hot
    per_other = [rest // others + (1 if i < rest % others else 0) for i in range(others)] if others else []
    return [hot, *per_other]


def _rows(history: History) -> dict[Table, Iterator[tuple[Any, ...]]]:
    spends = _spends_per_customer(history)

    def customers() -> Iterator[tuple[Any, ...]]:
        for cid in range(1, history.customers + 1):
            yield (cid, f"user-{cid}", f"user-{cid}@example.com", None, None, False, BASE_TIME, BASE_TIME)

    def lots() -> Iterator[tuple[Any, ...]]:
        for cid, spent in enumerate(spends, start=1):
            yield (cid, cid, "purchase", GRANT_CREDITS, GRANT_CREDITS - spent, None, None,
                   f"bench:{cid}", BASE_TIME)

    def balances() -> Iterator[tuple[Any, ...]]:
        for cid, spent in enumerate(spends, start=1):
            yield (cid, GRANT_CREDITS - spent, 0, 0, 0, spent + 1, BASE_TIME)

    def entries() -> Iterator[tuple[Any, ...]]:
        pk = 0
        for cid, spent in enumerate(spends, start=1):
            pk += 1
            yield (pk, f"bench-grant:{cid}", cid, "purchase", GRANT_CREDITS, GRANT_CREDITS, 0, 0,
                   GRANT_CREDITS, cid, None, None, f"bench:{cid}", None, "-", BASE_TIME)
            for n in range(1, spent + 1):
                pk += 1
                yield (pk, f"bench-spend:{cid}:{n}", cid, "spend", 1, -1, 0, 0, GRANT_CREDITS - n,
                       None, None, "export", None, None, "-", BASE_TIME + dt.timedelta(seconds=n))

    def movements() -> Iterator[tuple[Any, ...]]:
        pk = 0
        for cid, spent in enumerate(spends, start=1):
            pk += 1
            yield (pk, pk, cid, None, GRANT_CREDITS)
            for _ in range(spent):
                pk += 1
                yield (pk, pk, cid, None, -1)

    tables: dict[Table, Iterator[tuple[Any, ...]]] = {
        Customer.__table__: customers(),  # type: ignore[dict-item]
        CreditLot.__table__: lots(),  # type: ignore[dict-item]
        LedgerEntry.__table__: entries(),  # type: ignore[dict-item]
        CreditMovement.__table__: movements(),  # type: ignore[dict-item]
        CreditBalance.__table__: balances(),  # type: ignore[dict-item]
    }
    return tables


# Column order of the tuples above; checked against the models at load time so a schema change
# fails loudly here instead of loading shifted columns.
_COLUMNS: dict[str, Sequence[str]] = {
    "customers": ("id", "host_user_id", "email", "name", "stripe_customer_id", "livemode", "created_at",
                  "updated_at"),
    "credit_lots": ("id", "customer_id", "kind", "original_credits", "remaining_credits", "expires_at",
                    "period_start", "source", "created_at"),
    "ledger_entries": ("id", "entry_id", "customer_id", "kind", "credits", "available_delta", "held_delta",
                       "debt_delta", "balance_after", "lot_id", "hold_id", "feature", "source", "reason",
                       "fingerprint", "created_at"),
    "credit_movements": ("id", "entry_pk", "lot_id", "hold_id", "credits"),
    "credit_balances": ("customer_id", "available_credits", "held_credits", "debt_credits", "period_credits",
                        "version", "updated_at"),
}


def _columns(table: Table) -> Sequence[str]:
    columns = _COLUMNS[table.name]
    missing = {c.name for c in table.columns if not c.nullable and c.server_default is None} - set(columns)
    if missing:
        raise RuntimeError(f"bench.seed is out of date: {table.name} needs {sorted(missing)}")
    return columns


def bulk_load(url: str, history: History) -> LoadedHistory:
    """Load `history` into an empty, migrated database at `url`."""
    tables = _rows(history)
    if url.startswith("sqlite"):
        _load_sqlite(url, tables)
    else:
        _load_postgres(url, tables)
    return LoadedHistory(1, "user-1", list(range(1, history.customers + 1)), history.entries)


def _sqlite_value(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value


def _load_sqlite(url: str, tables: dict[Table, Iterator[tuple[Any, ...]]]) -> None:
    path = make_url(url).database
    assert path
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        for table, rows in tables.items():
            columns = _columns(table)
            marks = ",".join("?" * len(columns))
            # Names come from the models, not from input.
            sql = f"INSERT INTO {table.name} ({','.join(columns)}) VALUES ({marks})"  # noqa: S608
            conn.executemany(sql, (tuple(_sqlite_value(v) for v in row) for row in rows))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _load_postgres(url: str, tables: dict[Table, Iterator[tuple[Any, ...]]]) -> None:
    with psycopg.connect(_psycopg_url(url)) as conn:
        for table, rows in tables.items():
            columns = _columns(table)
            with conn.cursor().copy(f"COPY {table.name} ({','.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if "id" in columns:
                # Explicit ids leave the sequence at 1: move it past them for the service's inserts.
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                             f"(SELECT max(id) FROM {table.name}))")
        conn.commit()
        conn.execute("ANALYZE")


def grant_credits(url: str, customer_ids: Iterable[int], *, plan_key: str | None = "pro") -> None:
    """Give existing customers a large purchase lot (through the ledger service) and a plan."""
    from coinslot.db import Database
    from coinslot.ledger import service as ledger

    database = Database(url)
    now = dt.datetime.now(dt.UTC)
    try:
        with database.unit_of_work() as session:
            for cid in customer_ids:
                ledger.credit(session, customer_id=cid, entry_id=f"bench-grant:{cid}", kind="purchase",
                              credits=GRANT_CREDITS, now=now, source=f"bench:{cid}")
                if plan_key:
                    session.add(_active_subscription(cid, plan_key, now))
    finally:
        database.dispose()


def _active_subscription(customer_id: int, plan_key: str, now: dt.datetime) -> Subscription:
    return Subscription(
        customer_id=customer_id, stripe_subscription_id=f"sub_bench_{customer_id}", status="active",
        plan_key=plan_key, interval="month", stripe_price_id=None, current_period_start=now,
        current_period_end=now + dt.timedelta(days=30), cancel_at_period_end=False, snapshot_at_ms=0,
        created_at=now, updated_at=now,
    )


def add_customers(url: str, count: int, *, plan_key: str | None = "pro") -> list[int]:
    """`count` customers with credits and an active plan; returns their ids."""
    from coinslot.db import Database

    database = Database(url)
    now = dt.datetime.now(dt.UTC)
    try:
        with database.unit_of_work() as session:
            rows = [Customer(host_user_id=f"user-{i}", email=None, name=None, livemode=False, created_at=now,
                             updated_at=now) for i in range(1, count + 1)]
            session.add_all(rows)
            session.flush()
            ids = [row.id for row in rows]
    finally:
        database.dispose()
    grant_credits(url, ids, plan_key=plan_key)
    return ids


def add_subscriptions(url: str, customer_ids: Iterable[int], *, plan_key: str = "pro") -> None:
    from coinslot.db import Database

    database = Database(url)
    now = dt.datetime.now(dt.UTC)
    try:
        with database.unit_of_work() as session:
            session.add_all([_active_subscription(cid, plan_key, now) for cid in customer_ids])
    finally:
        database.dispose()
