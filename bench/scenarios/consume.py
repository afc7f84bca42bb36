"""Consume on one hot account and spread over many, SQLite and PostgreSQL, against a raw UPDATE floor.

In process (library mode): `threads` threads, each consuming 3 credits with a
fresh idempotency key through `GroupCommit.run` (group commit, as the API
and the library do; one row also measures one unit of work per consume), on one customer
(every writer serialises on its balance row) or round-robin over many. The
floor is what the database allows for the same shape of work: the same
threads, each running `UPDATE ... SET value = value - 1 WHERE id = ?` in its
own transaction on a raw driver connection (WAL + synchronous FULL on SQLite,
like coinslot's), on a side table so the ledger stays exact. `credits verify`
runs after every consume run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench.context import Context, Sizes
from bench.databases import fresh_database
from bench.harness import NS_PER_S, NotAvailable, Row, Sample, ScenarioResult, sample_of, timed
from bench.seed import add_customers
from bench.targets import Consume, find_consume

NAME = "consume"
TITLE = "consume (in process)"
_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def run_threads(op: Callable[[int, Any], None], *, threads: int, count: int, duration_s: float,
                open_conn: Callable[[], Any] = lambda: None) -> Sample:
    """`threads` threads call `op(i, conn)` until `count` calls are taken or `duration_s` has passed."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[int] = []
    errors = [0]
    first_error: list[str] = []
    deadline_ns = time.perf_counter_ns() + int(duration_s * NS_PER_S)

    def loop() -> None:
        conn = open_conn()
        mine: list[int] = []
        try:
            while time.perf_counter_ns() < deadline_ns and (i := next(counter)) < count:
                t0 = time.perf_counter_ns()
                try:
                    op(i, conn)
                except Exception as exc:  # counted, not raised: a failed consume is a figure too
                    errors[0] += 1
                    first_error.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                mine.append(time.perf_counter_ns() - t0)
        finally:
            if conn is not None:
                conn.close()
            with lock:
                latencies.extend(mine)

    started = time.perf_counter_ns()
    pool = [threading.Thread(target=loop, name=f"bench-consume-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if not latencies:
        raise RuntimeError(f"every call failed ({errors[0]} errors; first: {first_error[:1]})")
    return sample_of(latencies, time.perf_counter_ns() - started, errors=errors[0])


def _consume_sample(url: str, consume: Consume, customers: list[int], *, sizes: Sizes,
                    group_commit: bool) -> Sample:
    """`group_commit`: through `service.consume_grouped`, as the API and the library consume (concurrent
    consumes share one commit; `Container.writes`); else one unit of work per consume."""
    from coinslot.db import Database
    from coinslot.errors import CoinslotError
    from coinslot.group_commit import GroupCommit

    database = Database(url)
    writes = GroupCommit(database.unit_of_work, refusals=(CoinslotError,))
    run_id = uuid.uuid4().hex[:8]

    def op(i: int, _conn: Any) -> None:
        user = f"user-{customers[i % len(customers)]}"
        key, now = f"{run_id}-{i}", dt.datetime.now(dt.UTC)
        if group_commit:
            consume.grouped(writes, user, key, now)
            return
        with database.unit_of_work() as session:
            consume.call(session, user, key, now)

    try:
        return run_threads(op, threads=sizes.consume_threads, count=sizes.consume_count,
                           duration_s=sizes.consume_duration_s)
    finally:
        database.dispose()


def _raw_floor(url: str, rows: int, *, sizes: Sizes) -> Sample:
    """The same threads doing single-row UPDATE transactions on raw driver connections."""
    is_sqlite = url.startswith("sqlite")
    path = make_url(url).database
    pg_url = url.replace("postgresql+psycopg://", "postgresql://")

    def open_conn() -> Any:
        if not is_sqlite:
            return psycopg.connect(pg_url)
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    setup = open_conn()
    if not is_sqlite:
        setup.autocommit = True
    setup.execute("DROP TABLE IF EXISTS bench_counters")
    setup.execute("CREATE TABLE bench_counters (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)")
    for n in range(1, rows + 1):
        setup.execute("INSERT INTO bench_counters (id, value) VALUES (%s, 1000000000)".replace(
            "%s", "?" if is_sqlite else "%s"), (n,))
    setup.close()

    def op(i: int, conn: Any) -> None:
        row = i % rows + 1
        if is_sqlite:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE bench_counters SET value = value - 1 WHERE id = ?", (row,))
            conn.execute("COMMIT")
        else:
            conn.execute("UPDATE bench_counters SET value = value - 1 WHERE id = %s", (row,))
            conn.commit()

    return run_threads(op, threads=sizes.consume_threads, count=sizes.consume_count,
                       duration_s=sizes.consume_duration_s, open_conn=open_conn)


def verify_clean(url: str) -> str:
    from coinslot.db import Database
    from coinslot.ledger import service as ledger

    database = Database(url)
    try:
        with database.unit_of_work(read_only=True) as session:
            found = ledger.verify(session)
    finally:
        database.dispose()
    return "clean" if not found else f"{len(found)} discrepancies, first: {found[0]}"


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        try:
            consume = find_consume()
        except NotAvailable as exc:
            result.na_reason = str(exc)
            return result
        result.facts["measured"] = consume.label
        sizes = ctx.sizes
        for kind in ctx.database_kinds:
            with fresh_database(kind, postgres=ctx.postgres, workdir=ctx.workdir) as db:
                customers = add_customers(db.url, sizes.consume_spread_customers)
                for mode, chosen, grouped in (("hot", customers[:1], True), ("spread", customers, True),
                                              ("hot-alone", customers[:1], False)):
                    sample = _consume_sample(db.url, consume, chosen, sizes=sizes, group_commit=grouped)
                    result.facts[f"verify after {kind} {mode}"] = verify_clean(db.url)
                    floor = _raw_floor(db.url, len(chosen), sizes=sizes)
                    result.rows.append(_row(kind, mode, sample, floor, sizes.consume_threads, len(chosen)))
        if ctx.postgres is None:
            result.rows.append(Row("postgresql", "PostgreSQL", None, na_reason=ctx.postgres_reason))
    return result


def _row(kind: str, mode: str, sample: Sample, floor: Sample, threads: int, customers: int) -> Row:
    where = {"hot": "one hot account, group commit", "hot-alone": "one hot account, a transaction each",
             "spread": f"spread over {customers} accounts, group commit"}[mode]
    row = Row(f"{kind}.{mode}", f"{_NAMES[kind]}, {where}, {threads} threads", sample,
              floor_label="raw 1-row UPDATE tx", floor=floor, unit="consumes/s")
    if (kind, mode) == ("sqlite", "hot"):
        row.target = ">= 1.0x floor"
        row.target_check = lambda r: r.ratio is not None and r.ratio >= 1.0
    if (kind, mode) == ("postgresql", "hot"):
        row.target = ">= 2,000/s"
        row.target_check = lambda r: r.sample is not None and r.sample.rate_per_s >= 2000
    return row
