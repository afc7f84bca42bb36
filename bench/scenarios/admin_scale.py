"""The admin console at scale: its lists, the status counts and the figures on PostgreSQL.

The rows are those the EXPLAIN test plans against (tests/support/console_scale.py): 100K customers,
20K subscriptions, 1M webhook events, 100K attempts, 500K ledger entries over a year. One caller at a
time, in process: first each read as its page calls it (web/admin_views.py, in a read-only unit of
work of its own), then three pages through the app (session, rendering and middleware included).
Target: every answer under 300 ms (issue 15), checked on the p99. Floor: the same figure on the same
rows a hundred times fewer, so the ratio shows what the size costs (keyset pages: about nothing).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

from bench.context import Context
from bench.databases import fresh_database
from bench.harness import Row, Sample, ScenarioResult, fmt_ns, time_calls, timed
from bench.servers import REPO
from tests.support.console_scale import ConsoleScale, seed_console

NAME = "admin_scale"
TITLE = "admin console at scale: lists, counts, figures (PostgreSQL)"
CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"
NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)  # the seeded year ends here
LIMIT_NS = 300_000_000
PASSWORD = "bench-operator-password"
MAX_S = 5.0  # per figure: the slowest reads get fewer samples, never a longer run

Read = Callable[[Any], object]  # called with a read-only session


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        if ctx.postgres is None:
            result.na_reason = ctx.postgres_reason or "needs PostgreSQL"
            return result
        scale = ctx.sizes.console
        small = ConsoleScale(customers=scale.customers // 100, events=scale.events // 100,
                             entries=scale.entries // 100)
        floors, _ = _measure(ctx, small)
        samples, seed_ns = _measure(ctx, scale)
        result.facts["rows"] = (f"{scale.customers:,} customers, {scale.events:,} events, "
                                f"{scale.entries:,} ledger entries, seeded in {fmt_ns(seed_ns)}")
        for key, label in _labels(scale):
            result.rows.append(_row(key, label, samples[key], floors[key], small))
    return result


def _measure(ctx: Context, scale: ConsoleScale) -> tuple[dict[str, Sample], int]:
    """Every figure on a fresh database of `scale`'s rows, and how long they took to seed."""
    from coinslot.db import Database

    calls = ctx.sizes.console_calls
    with fresh_database("postgresql", postgres=ctx.postgres, workdir=ctx.workdir) as db:
        database = Database(db.url)
        try:
            started = time.perf_counter_ns()
            seed_console(database, scale)
            seed_ns = time.perf_counter_ns() - started
            samples = {key: _time_read(database, read, calls) for key, read in _reads(scale).items()}
            samples |= {key: _time_page(database, path, calls) for key, path in _pages(scale).items()}
        finally:
            database.dispose()
    return samples, seed_ns


def _labels(scale: ConsoleScale) -> list[tuple[str, str]]:
    customer_mid, event_mid = scale.customers // 2, scale.events // 2
    return [
        ("customers.newest", "customers, newest page"),
        ("customers.deep", f"customers, page before #{customer_mid:,}"),
        ("customers.search", "customers, search (a substring: reads them all)"),
        ("events.newest", "events, newest page"),
        ("events.deep", f"events, page before #{event_mid:,}"),
        ("events.dead", "dead letters"),
        ("events.type_deep", f"events of one type, page before #{event_mid:,}"),
        ("events.counts", "event counts by status"),
        ("figures", "analytics figures"),
        ("page.customers", "page /admin/customers, deep"),
        ("page.events", "page /admin/events, deep"),
        ("page.overview", "page /admin (figures, counts, alerts)"),
    ]


def _reads(scale: ConsoleScale) -> dict[str, Read]:
    """Each read as its page calls it; deep pages start in the middle of the table."""
    from coinslot.analytics import service as analytics
    from coinslot.catalog.parser import load_catalog
    from coinslot.web.admin_views import customer_search, event_search
    from coinslot.webhooks import service as events

    catalog = load_catalog(CATALOG)
    customer_mid, event_mid = scale.customers // 2, scale.events // 2
    return {
        "customers.newest": lambda s: customer_search(s, query="", before=None),
        "customers.deep": lambda s: customer_search(s, query="", before=customer_mid),
        "customers.search": lambda s: customer_search(s, query="user42@", before=None),
        "events.newest": lambda s: event_search(s, status="", type_="", before=None),
        "events.deep": lambda s: event_search(s, status="", type_="", before=event_mid),
        "events.dead": lambda s: event_search(s, status="dead", type_="", before=None),
        "events.type_deep": lambda s: event_search(s, status="", type_="invoice.paid", before=event_mid),
        "events.counts": events.counts,
        "figures": lambda s: analytics.figures(s, catalog=catalog, now=NOW),
    }


def _pages(scale: ConsoleScale) -> dict[str, str]:
    return {
        "page.customers": f"/admin/customers?before={scale.customers // 2}",
        "page.events": f"/admin/events?before={scale.events // 2}",
        "page.overview": "/admin",
    }


def _time_read(database: Any, read: Read, calls: int) -> Sample:
    def one(_i: int) -> None:
        with database.unit_of_work(read_only=True) as session:
            read(session)

    return time_calls(one, count=calls, max_s=MAX_S, warmup=2)


def _time_page(database: Any, path: str, calls: int) -> Sample:
    client = _signed_in_client(database)

    def one(_i: int) -> None:
        answer = client.get(path)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}")

    return time_calls(one, count=calls, max_s=MAX_S, warmup=2)


def _signed_in_client(database: Any) -> Any:
    """The app on the seeded database, at the seeded year's end, with an operator signed in."""
    from fastapi.testclient import TestClient

    from coinslot.app import create_app
    from coinslot.clock import FixedClock
    from coinslot.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database.url, stripe_secret_key=None, catalog_path=CATALOG,
        public_url="http://testserver", session_secret="bench-admin-scale-session-secret",
        admin_password=PASSWORD,
    )
    client = TestClient(create_app(settings, db=database, clock=FixedClock(NOW), configure_logs=False))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    client.post("/admin/login", data={"csrf_token": token.group(1), "password": PASSWORD})
    return client


def _row(key: str, label: str, sample: Sample, floor: Sample, small: ConsoleScale) -> Row:
    return Row(key, label, sample, primary="p99", unit="calls/s",
               floor_label=f"{small.customers:,} cust/{small.events:,} events", floor=floor,
               target="p99 < 300 ms", target_check=_under_limit)


def _under_limit(row: Row) -> bool:
    return row.sample is not None and row.sample.p99_ns < LIMIT_NS
