"""The entitlement check in process (library mode): `entitlements.service.check` on a read-only unit
of work, one call at a time. Floor: the same read-only unit of work running one primary-key SELECT."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, select

from bench.context import Context
from bench.databases import fresh_database
from bench.harness import Row, ScenarioResult, time_calls, timed
from bench.seed import add_customers
from bench.servers import REPO

NAME = "check_inproc"
TITLE = "entitlement check in process (library mode)"
CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"
_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
_LIMIT_NS = {"sqlite": 100_000, "postgresql": 300_000}  # issue 15's targets
_TARGETS = {"sqlite": "p50 < 100 µs", "postgresql": "p50 < 300 µs"}


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        try:
            from coinslot.entitlements import hot_check as service
        except ImportError as exc:
            result.na_reason = f"coinslot.entitlements.hot_check not in the tree: {exc}"
            return result
        for kind in ctx.database_kinds:
            with fresh_database(kind, postgres=ctx.postgres, workdir=ctx.workdir) as db:
                add_customers(db.url, ctx.sizes.check_customers)
                result.rows.append(_measure(kind, db.url, service, ctx))
        if ctx.postgres is None:
            result.rows.append(Row("postgresql", "PostgreSQL", None, na_reason=ctx.postgres_reason))
    return result


def _measure(kind: str, url: str, service: Any, ctx: Context) -> Row:
    from coinslot.catalog.parser import load_catalog
    from coinslot.db import Database
    from coinslot.entitlements import service as uow_service
    from coinslot.models import CreditBalance

    catalog = load_catalog(CATALOG)
    database = Database(url)
    customers = ctx.sizes.check_customers
    balance = database.prepared(select(CreditBalance.available_credits)
                                .where(CreditBalance.customer_id == bindparam("customer_id")))

    def one_check(i: int) -> None:
        decision = service.check(database, host_user_id=f"user-{i % customers + 1}", feature="export",
                                 catalog=catalog, now=dt.datetime.now(dt.UTC))
        if not decision.allowed:
            raise RuntimeError(f"check refused a seeded customer: {decision}")

    def one_uow_check(i: int) -> None:
        with database.unit_of_work(read_only=True) as session:
            uow_service.check(session, host_user_id=f"user-{i % customers + 1}", feature="export",
                              catalog=catalog, now=dt.datetime.now(dt.UTC))

    def one_select(i: int) -> None:
        balance.all({"customer_id": i % customers + 1})

    sizes = ctx.sizes
    try:
        sample = time_calls(one_check, count=sizes.inproc_count, max_s=sizes.inproc_duration_s, warmup=50)
        floor = time_calls(one_select, count=sizes.inproc_count, max_s=sizes.inproc_duration_s, warmup=50)
        before = time_calls(one_uow_check, count=sizes.inproc_count, max_s=sizes.inproc_duration_s, warmup=50)
    finally:
        database.dispose()
    row = Row(kind, f"{_NAMES[kind]}, 1 caller", sample, primary="p50",
              floor_label="1 prepared PK SELECT, pooled connection", floor=floor, unit="checks/s",
              target=_TARGETS[kind],
              target_check=lambda r: r.sample is not None and r.sample.p50_ns < _LIMIT_NS[kind])
    row.note = f"service.check on a read-only unit of work: p50 {before.p50_ns / 1000:,.0f} µs"
    return row
