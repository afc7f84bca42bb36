"""Growth: check and consume latency of one customer with a small history vs a large one.

Small: 100 customers, 1K ledger entries; large: 1M customers, 10M entries, the
issue's scale (bulk-loaded, see bench.seed). The measured customer owns a tenth
of the entries in both, so its own history grows 10,000-fold along with the tables.
One caller at a time, in process; the floor of each large figure is the same
figure on the small database, and the target is large <= 1.2x small.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

from bench.context import Context
from bench.databases import fresh_database
from bench.harness import Row, Sample, ScenarioResult, fmt_ns, time_calls, timed
from bench.seed import History, add_subscriptions, bulk_load
from bench.servers import REPO

NAME = "growth"
TITLE = "growth: 1K vs 10M ledger entries, 100 vs 1M customers"
CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"
_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _measure(url: str, user: str, calls: int) -> dict[str, Sample]:
    from coinslot.catalog.parser import load_catalog
    from coinslot.db import Database
    from coinslot.entitlements import service

    catalog = load_catalog(CATALOG)
    database = Database(url)
    run_id = uuid.uuid4().hex[:8]

    def check(_i: int) -> None:
        with database.unit_of_work(read_only=True) as session:
            service.check(session, host_user_id=user, feature="export", catalog=catalog,
                          now=dt.datetime.now(dt.UTC))

    def consume(i: int) -> None:
        with database.unit_of_work() as session:
            service.consume(session, host_user_id=user, feature="export", idempotency_key=f"{run_id}-{i}",
                            catalog=catalog, now=dt.datetime.now(dt.UTC))

    try:
        return {"check": time_calls(check, count=calls, max_s=10.0, warmup=20),
                "consume": time_calls(consume, count=calls, max_s=10.0, warmup=20)}
    finally:
        database.dispose()


def _one(ctx: Context, kind: str, customers: int, entries: int) -> tuple[dict[str, Sample], int]:
    with fresh_database(kind, postgres=ctx.postgres, workdir=ctx.workdir) as db:
        started = time.perf_counter_ns()
        loaded = bulk_load(db.url, History(customers=customers, entries=entries))
        load_ns = time.perf_counter_ns() - started
        add_subscriptions(db.url, [loaded.hot_customer_id])
        return _measure(db.url, loaded.hot_host_user_id, ctx.sizes.growth_calls), load_ns


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        try:
            from coinslot.entitlements import service  # noqa: F401
        except ImportError as exc:
            result.na_reason = f"coinslot.entitlements.service not in the tree: {exc}"
            return result
        small, large = ctx.sizes.growth_small, ctx.sizes.growth_large
        for kind in ctx.database_kinds:
            before, _ = _one(ctx, kind, *small)
            after, load_ns = _one(ctx, kind, *large)
            result.facts[f"{kind}: bulk load of {large[1]:,} entries"] = fmt_ns(load_ns)
            for what in ("check", "consume"):
                result.rows.append(_row(kind, what, after[what], before[what], small, large))
        if ctx.postgres is None:
            result.rows.append(Row("postgresql", "PostgreSQL", None, na_reason=ctx.postgres_reason))
    return result


def _row(kind: str, what: str, after: Sample, before: Sample, small: tuple[int, int],
         large: tuple[int, int]) -> Row:
    def fmt(pair: tuple[int, int]) -> str:
        return f"{pair[0]:,} cust/{pair[1]:,} entries"

    label = f"{_NAMES[kind]} {what}, {fmt(large)}"
    return Row(f"{kind}.{what}", label, after, primary="p50", floor_label=fmt(small), floor=before,
               unit="calls/s", target="<= 1.2x small",
               target_check=lambda r: r.ratio is not None and r.ratio <= 1.2)
