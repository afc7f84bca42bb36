"""Webhook processing end to end: events/s with 1 and 2 worker processes, on SQLite and PostgreSQL.

The events are stripesim's own (checkouts, subscriptions, renewals, a failing
card: see bench.stripesim_world), kept to the types coinslot handles, and
stored in a fresh inbox for each run. Each worker is a separate process running
`coinslot.webhooks.worker.process_due` (claim, re-read from stripesim over
HTTP, apply + mark processed in one transaction) until nothing is due.

Floor: the same number of events of a type coinslot ignores, through the same
workers: claim + mark + attempt row, no Stripe read, no domain write. The
ratio is the share of the pipeline's own rate that the handlers leave.

The anchor: the whole stream, every event stripesim emitted (the types coinslot
ignores too, as a real account sends them), through one coinslot worker and
through dj-stripe (its latest release, in its own virtualenv `.venv-djstripe`,
Django's ORM on the same kind of database; clients/djstripe/bench_stream.py hands
each event to dj-stripe's `Event.process`, as its webhook view does). Both sides
re-read from the same stripesim and skip signatures and HTTP; the ratio is
coinslot's rate over dj-stripe's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import func, select

from bench.context import Context
from bench.databases import fresh_database
from bench.harness import NotAvailable, Row, Sample, ScenarioResult, timed
from bench.servers import REPO, serve_stripesim
from bench.stripesim_world import STRIPE_KEY, World, build_world

NAME = "webhook_process"
TITLE = "webhook processing (stripesim events, end to end)"
CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"
BATCH = 50  # process_due's default batch, as `coinslot worker` runs it
MAX_S = 120.0


def _handled_types() -> set[str]:
    try:
        from coinslot.webhooks.handlers import HANDLERS
        from coinslot.webhooks.worker import process_due  # noqa: F401
    except ImportError as exc:
        raise NotAvailable(f"webhook worker not importable: {exc}") from exc
    return set(HANDLERS)


def _fill_inbox(url: str, world: World, events: list[dict[str, Any]]) -> None:
    from coinslot.db import Database
    from coinslot.models import Customer
    from coinslot.stripe_gateway.events import event_from_dict
    from coinslot.webhooks.inbox import store_event

    database = Database(url)
    now = dt.datetime.now(dt.UTC)
    try:
        with database.unit_of_work() as session:
            session.add_all([
                Customer(host_user_id=user, stripe_customer_id=cus, livemode=False, created_at=now,
                         updated_at=now)
                for user, cus in world.customers.items()
            ])
            for event in events:
                body = json.dumps(event).encode()
                store_event(session, event=event_from_dict(event), payload=body, now=now)
    finally:
        database.dispose()


def _statuses(url: str) -> dict[str, int]:
    from coinslot.db import Database
    from coinslot.models import WebhookEvent

    database = Database(url)
    try:
        with database.unit_of_work(read_only=True) as session:
            rows = session.execute(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status))
            return {status: count for status, count in rows}
    finally:
        database.dispose()


class WorkerPool:
    """`size` bench.worker processes, started once for every measurement of the scenario."""

    def __init__(self, size: int) -> None:
        self._procs = [subprocess.Popen([sys.executable, "-m", "bench.worker"], cwd=REPO,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                       for _ in range(size)]
        self._booted = False

    def _expect_ready(self, procs: list[subprocess.Popen[str]]) -> None:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a bench worker did not start")

    def run(self, spec: str, workers: int) -> tuple[int, int]:
        """Run the job on `workers` of the processes, released together; (events processed, elapsed ns)."""
        if not self._booted:
            self._expect_ready(self._procs)
            self._booted = True
        procs = self._procs[:workers]
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(spec + "\n")
            proc.stdin.flush()
        self._expect_ready(procs)
        started_ns = time.monotonic_ns()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        answers = []
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("a bench worker died")
            answers.append(json.loads(line))
        processed = sum(int(a["processed"]) for a in answers)
        return processed, max(int(a["last_done_ns"]) for a in answers) - started_ns

    def close(self) -> None:
        for proc in self._procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _spec(url: str, stripe_url: str) -> str:
    return json.dumps({"database_url": url, "stripe_key": STRIPE_KEY, "stripe_api_base": stripe_url,
                       "catalog_path": str(CATALOG), "batch": BATCH, "max_s": MAX_S})


def _noop_copies(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**event, "id": event["id"] + "_noop", "type": "bench.noop"} for event in events]


def _measure(ctx: Context, pool: WorkerPool, kind: str, world: World, events: list[dict[str, Any]],
             stripe_url: str, workers: int) -> tuple[Sample, dict[str, int]]:
    with fresh_database(kind, postgres=ctx.postgres, workdir=ctx.workdir) as db:
        _fill_inbox(db.url, world, events)
        processed, elapsed_ns = pool.run(_spec(db.url, stripe_url), workers)
        statuses = _statuses(db.url)
    # Per-event latency is not observable from outside the workers: p50/p99 are the mean event time.
    mean_ns = elapsed_ns // max(processed, 1)
    return Sample(processed, elapsed_ns, mean_ns, mean_ns), statuses


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        try:
            handled = _handled_types()
        except NotAvailable as exc:
            result.na_reason = str(exc)
            return result
        pool = WorkerPool(2)  # boots while stripesim starts and the world is built
        try:
            _measure_all(ctx, pool, result, handled)
        finally:
            pool.close()
        if ctx.postgres is None:
            result.rows.append(Row("postgresql", "PostgreSQL", None, na_reason=ctx.postgres_reason))
    return result


DJSTRIPE_VENV = REPO / ".venv-djstripe"
DJSTRIPE_SCRIPT = REPO / "clients" / "djstripe" / "bench_stream.py"


def _djstripe(ctx: Context, kind: str, stripe_url: str) -> tuple[Sample, dict[str, Any]]:
    """dj-stripe's run of the stream stripesim holds, on a fresh database of `kind`: (rate, its report)."""
    python = DJSTRIPE_VENV / "bin" / "python"
    template = DJSTRIPE_VENV / "migrated.sqlite3"
    if not python.exists() or not template.exists():
        raise NotAvailable("dj-stripe's virtualenv is missing: run ./dev setup")
    args = [str(python), str(DJSTRIPE_SCRIPT)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["STRIPESIM_URL"] = stripe_url
    if kind == "sqlite":
        database = ctx.workdir / f"djstripe-{time.monotonic_ns()}.sqlite3"
        shutil.copyfile(template, database)
        env["DJSTRIPE_DB"] = str(database)
        report = _run_djstripe(args, env)
        database.unlink(missing_ok=True)
    else:
        if ctx.postgres is None:
            raise NotAvailable(ctx.postgres_reason)
        name = ctx.postgres.create_database()
        try:
            env["DJSTRIPE_DB"] = ctx.postgres.url(name).replace("postgresql+psycopg://", "postgresql://")
            report = _run_djstripe([*args, "--migrate"], env)  # migrating is not timed
        finally:
            ctx.postgres.drop_database(name)
    elapsed_ns = int(report["elapsed_ns"])
    mean_ns = elapsed_ns // max(int(report["events"]), 1)
    return Sample(int(report["events"]), elapsed_ns, mean_ns, mean_ns), report


def _run_djstripe(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dj-stripe's bench run failed: {done.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _measure_stream(ctx: Context, pool: WorkerPool, result: ScenarioResult, world: World,
                    stripe_url: str) -> None:
    """The whole stream through one coinslot worker and through dj-stripe, on each kind of database."""
    result.facts["stream"] = f"{len(world.events)} events, {len(World(events=world.events).mix())} types"
    for kind in ctx.database_kinds:
        name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
        mine, statuses = _measure(ctx, pool, kind, world, world.events, stripe_url, 1)
        result.facts[f"{kind} stream outcomes"] = ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
        row = Row(f"{kind}.stream_vs_djstripe", f"{name}, whole stream, 1 worker", mine,
                  floor_label="dj-stripe 2.11, same stream", unit="events/s",
                  note="p50/p99 columns show the mean time per event", target=">= 10x dj-stripe",
                  target_check=lambda r: r.ratio is not None and r.ratio >= 10)
        try:
            row.floor, report = _djstripe(ctx, kind, stripe_url)
            result.facts[f"{kind} dj-stripe failures"] = report["failed"]
        except NotAvailable as exc:
            row.note = f"dj-stripe not run: {exc}"
        result.rows.append(row)


def _measure_all(ctx: Context, pool: WorkerPool, result: ScenarioResult, handled: set[str]) -> None:
    sizes = ctx.sizes
    with serve_stripesim(log_dir=ctx.workdir) as sim:
        world = build_world(sim.url, CATALOG, customers=sizes.process_customers, months=sizes.process_months)
        events = [event for event in world.events if event["type"] in handled]
        result.facts["event mix"] = ", ".join(f"{t} {n}" for t, n in World(events=events).mix().items())
        for kind in ctx.database_kinds:
            for workers in (1, 2):
                sample, statuses = _measure(ctx, pool, kind, world, events, sim.url, workers)
                floor, _ = _measure(ctx, pool, kind, world, _noop_copies(events), sim.url, workers)
                result.rows.append(_row(kind, workers, sample, floor))
                result.facts[f"{kind} {workers}w outcomes"] = ", ".join(
                    f"{s} {n}" for s, n in sorted(statuses.items()))
        _measure_stream(ctx, pool, result, world, sim.url)


def _row(kind: str, workers: int, sample: Sample, floor: Sample) -> Row:
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    row = Row(f"{kind}.workers{workers}", f"{name}, {workers} worker{'s' if workers > 1 else ''}", sample,
              floor_label="ignored-type events", floor=floor, unit="events/s",
              note="p50/p99 columns show the mean time per event")
    if kind == "postgresql" and workers == 2:
        row.target = ">= 1,000 events/s"
        row.target_check = lambda r: r.sample is not None and r.sample.rate_per_s >= 1000
    return row


