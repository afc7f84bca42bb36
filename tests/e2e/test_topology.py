"""The production topology of compose.yaml, without containers: PostgreSQL, two `coinslot migrate` at
once, two `coinslot serve --workers 2` and two `coinslot worker` processes with compose's commands and
variables, against stripesim. A subscriber's month goes through both API processes, a worker is
SIGKILLed mid-batch and the other takes its events over, and every process shows metrics and logs.

The commands and variable names below are checked against compose.yaml by
tests/unit/test_deploy_files.py: this test runs what the compose file deploys.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import stripe
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from typer.testing import CliRunner

import coinslot.models
import stripesim
from coinslot.apikeys.service import create_key
from coinslot.cli import app as cli
from coinslot.customers.flows import METADATA_USER_KEY
from coinslot.db import Database
from coinslot.migrations import VERSION_TABLE, migration_lock_key, schema_status
from coinslot.models import LedgerEntry, WebhookAttempt, WebhookEvent
from stripesim.sim import Sim
from tests.support.postgres import PostgresServer
from tests.support.processes import REPO, Process, clean_environment, wait_until
from tests.support.servers import ServerThread, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# --- what compose.yaml runs (tests/unit/test_deploy_files.py holds the two together) ---------------------
MIGRATE = ["coinslot", "migrate"]
SERVE = ["coinslot", "serve", "--no-migrate", "--workers", "2"]
WORKER = ["coinslot", "worker"]
SHARED_ENV = (
    "COINSLOT_DATABASE_URL", "COINSLOT_STRIPE_SECRET_KEY", "COINSLOT_STRIPE_API_BASE",
    "COINSLOT_STRIPE_WEBHOOK_SECRETS", "COINSLOT_SESSION_SECRET", "COINSLOT_ADMIN_PASSWORD",
    "COINSLOT_CATALOG_PATH", "COINSLOT_PUBLIC_URL", "COINSLOT_ALLOWED_REDIRECT_ORIGINS",
    "COINSLOT_HOST_WEBHOOK_URL", "COINSLOT_HOST_WEBHOOK_SECRET", "COINSLOT_LOG_JSON", "COINSLOT_SENTRY_DSN",
)
API_ENV = (*SHARED_ENV, "COINSLOT_HOST", "COINSLOT_PORT", "FORWARDED_ALLOW_IPS")
WORKER_ENV = (*SHARED_ENV, "COINSLOT_METRICS_PORT", "COINSLOT_WORKER_LEASE_S",
              "COINSLOT_RECONCILE_INTERVAL_S")
# Test-only tuning on top: coinslot's time follows the story's Stripe test clock (pinned below), leases
# of 3 s instead of 30 so that a takeover fits in the test, a quick poll, and no periodic backfill.
TEST_ONLY_ENV = ("COINSLOT_STRIPE_TEST_CLOCK", "COINSLOT_STRIPE_TEST_CLOCK_POLL_S",
                 "COINSLOT_WORKER_POLL_INTERVAL_S", "COINSLOT_STRIPE_MAX_NETWORK_RETRIES")

FROZEN_TIME = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)  # the story's start, whatever today is
STRIPE_KEY = "sk_test_topology"
SECRETS = ("whsec_topology_api_one", "whsec_topology_api_two")
LEASE_S = 3
CORE = 25
PACK_PRICE_MINOR = 20  # Patch-Hive sells credits at $0.20


@dataclass
class Topology:
    url: str
    sim: Sim
    sim_url: str
    stripe: stripe.StripeClient
    clock_id: str
    apis: list[Process]
    api_urls: list[str]
    workers: list[Process]
    worker_metrics: list[str]
    api_key: str
    db: Database

    def api(self, n: int) -> httpx.Client:
        return httpx.Client(base_url=self.api_urls[n % 2], timeout=30,
                            headers={"Authorization": f"Bearer {self.api_key}"})

    @property
    def everyone(self) -> list[Process]:
        return [*self.apis, *self.workers]


def environment(names: tuple[str, ...], values: dict[str, str], *, tuned: bool = True) -> dict[str, str]:
    """Compose's variables for a service, with this test's values (and its tuning, for the processes)."""
    missing = [name for name in names if name not in values]
    assert not missing, f"no value for {missing}"
    extra = TEST_ONLY_ENV if tuned else ()
    return clean_environment({name: values[name] for name in (*names, *extra) if name in values})


def migrate_twice_at_once(url: str, tmp_path: Path, values: dict[str, str]) -> None:
    """Two `coinslot migrate` start while a third party holds the migration lock: both wait, then one
    migrates and the other finds the schema current."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migration_lock_key(None),))
        env = environment(SHARED_ENV, values)
        runs = [Process(f"migrate-{n}", MIGRATE, env, tmp_path / f"migrate-{n}.log").start()
                for n in range(2)]
        wait_until("both migrations waiting on the lock",
                   lambda: all("holds the migration lock; waiting" in run.output() for run in runs),
                   processes=runs)
        holder.execute("SELECT pg_advisory_unlock(%s)", (migration_lock_key(None),))
    assert [run.wait(60) for run in runs] == [0, 0], [run.output() for run in runs]
    assert all("database schema is current" in run.output() for run in runs)
    database = Database(url)
    try:
        assert schema_status(database).state == "current"
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, coinslot.models.Base.metadata) == []
    finally:
        database.dispose()


@pytest.fixture
def topology(postgres: PostgresServer, tmp_path: Path) -> Iterator[Topology]:
    name = postgres.create_database()
    url = postgres.url(name)
    api_ports = [free_port(), free_port()]
    api_urls = [f"http://127.0.0.1:{port}" for port in api_ports]
    sim = Sim(retry_base_delay_s=0.05)
    sim_server = ServerThread(stripesim.create_app(sim, webhook_url=f"{api_urls[0]}/webhooks/stripe",
                                                   webhook_secret=SECRETS[0])).start()
    sim.add_webhook_endpoint(f"{api_urls[1]}/webhooks/stripe", SECRETS[1], None)  # both APIs receive
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sim_server.url}, max_network_retries=0)
    clock_id = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": int(FROZEN_TIME.timestamp())}).id
    values = {
        "COINSLOT_DATABASE_URL": url,
        "COINSLOT_STRIPE_SECRET_KEY": STRIPE_KEY,
        "COINSLOT_STRIPE_API_BASE": sim_server.url,
        "COINSLOT_STRIPE_WEBHOOK_SECRETS": ",".join(SECRETS),
        "COINSLOT_SESSION_SECRET": "topology-session-secret-topology-session",
        "COINSLOT_ADMIN_PASSWORD": "topology-admin-password",
        "COINSLOT_CATALOG_PATH": str(REPO / "examples" / "catalogs" / "patch_hive.toml"),
        "COINSLOT_PUBLIC_URL": api_urls[0],
        "COINSLOT_ALLOWED_REDIRECT_ORIGINS": "http://127.0.0.1:5000",
        "COINSLOT_HOST_WEBHOOK_URL": "",
        "COINSLOT_HOST_WEBHOOK_SECRET": "",
        "COINSLOT_LOG_JSON": "true",
        "COINSLOT_SENTRY_DSN": "",
        "COINSLOT_HOST": "127.0.0.1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "COINSLOT_WORKER_LEASE_S": str(LEASE_S),
        "COINSLOT_RECONCILE_INTERVAL_S": "0",
        "COINSLOT_STRIPE_TEST_CLOCK": clock_id,
        "COINSLOT_STRIPE_TEST_CLOCK_POLL_S": "0.2",
        "COINSLOT_WORKER_POLL_INTERVAL_S": "0.1",
        "COINSLOT_STRIPE_MAX_NETWORK_RETRIES": "0",
    }
    migrate_twice_at_once(url, tmp_path, values)
    # In this process: without the test clock (its follower thread would outlive the test).
    pushed = CliRunner().invoke(cli, ["catalog", "push"], env=environment(SHARED_ENV, values, tuned=False))
    assert pushed.exit_code == 0, pushed.output
    db = Database(url)
    with db.unit_of_work() as session:
        api_key = create_key(session, name="topology", now=FROZEN_TIME, scopes=["admin"]).secret
    apis = [Process(f"api-{n}", SERVE, environment(API_ENV, {**values, "COINSLOT_PORT": str(port)}),
                    tmp_path / f"api-{n}.log").start() for n, port in enumerate(api_ports)]
    metrics_ports = [free_port(), free_port()]
    workers = [Process(f"worker-{n}", WORKER,
                       environment(WORKER_ENV, {**values, "COINSLOT_METRICS_PORT": str(port)}),
                       tmp_path / f"worker-{n}.log").start() for n, port in enumerate(metrics_ports)]
    running = Topology(url, sim, sim_server.url, client, clock_id, apis, api_urls, workers,
                       [f"http://127.0.0.1:{port}/metrics" for port in metrics_ports], api_key, db)
    try:
        wait_until("every process up",
                   lambda: all(httpx.get(f"{u}/readyz").status_code == 200 for u in api_urls)
                   and all(httpx.get(m).status_code == 200 for m in running.worker_metrics),
                   processes=running.everyone)
        yield running
    finally:
        for process in running.everyone:
            process.stop()
        sim_server.stop()
        db.dispose()
        postgres.drop_database(name)


# --- steps ------------------------------------------------------------------------------------------------


def summary(topology: Topology, n: int, user: str) -> dict[str, Any]:
    with topology.api(n) as api:
        answer = api.get(f"/v1/customers/{user}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def checkout_and_pay(topology: Topology, n: int, user: str, **item: Any) -> str:
    body = {"host_user_id": user, "success_url": "http://127.0.0.1:5000/ok",
            "cancel_url": "http://127.0.0.1:5000/no", **item}
    with topology.api(n) as api:
        started = api.post("/v1/checkout/sessions", json=body)
    assert started.status_code == 201, started.text
    session_id = str(started.json()["session_id"])
    paid = httpx.post(f"{topology.sim_url}/_sim/checkout/sessions/{session_id}/complete",
                      json={"payment_method": "pm_card_visa"}, timeout=30)
    assert paid.status_code == 200, paid.text
    return session_id


def entries(topology: Topology, prefix: str) -> list[tuple[str, str, int]]:
    with topology.db.unit_of_work(read_only=True) as session:
        query = (select(LedgerEntry.entry_id, LedgerEntry.kind, LedgerEntry.available_delta)
                 .where(LedgerEntry.entry_id.startswith(prefix)).order_by(LedgerEntry.id))
        return [(str(a), str(b), int(c)) for a, b, c in session.execute(query)]


def available(topology: Topology, n: int, user: str) -> int:
    return int(summary(topology, n, user)["credits"]["available"])


def metric(body: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in body.splitlines() if line.startswith(name))


def test_the_compose_topology_serves_a_month_of_billing_and_survives_a_killed_worker(
    topology: Topology,
) -> None:
    everyone = topology.everyone
    user = "pat"
    # A subscriber on the story's test clock, subscribing through API 0; webhooks reach both APIs.
    topology.stripe.v1.customers.create(params={"email": "pat@example.com", "test_clock": topology.clock_id,
                                                "metadata": {METADATA_USER_KEY: user}})
    checkout_and_pay(topology, 0, user, plan="core", interval="month")
    topology.sim.dispatcher.flush()
    wait_until("the plan and its credits", lambda: summary(topology, 1, user)["plan"] == "core"
               and available(topology, 1, user) == CORE, processes=everyone)
    [subscription] = topology.stripe.v1.subscriptions.list().data

    # Renew: Stripe's clock moves a month on; every coinslot process follows it.
    period_end = dt.datetime.fromtimestamp(subscription["items"].data[0].current_period_end, dt.UTC)
    target = period_end + dt.timedelta(hours=2)
    advanced = httpx.post(f"{topology.sim_url}/_sim/test_clocks/{topology.clock_id}/advance",
                          json={"frozen_time": int(target.timestamp())}, timeout=60)
    assert advanced.status_code == 200, advanced.text
    topology.sim.dispatcher.flush()
    wait_until("the renewal granted once", lambda: len(entries(topology, "invoice:")) == 2,
               processes=everyone)
    wait_until("every API on the new month", lambda: all(
        dt.datetime.fromisoformat(httpx.get(f"{u}/healthz").json()["now"]) >= period_end
        for u in topology.api_urls), processes=everyone)
    assert [kind for _, kind, _ in entries(topology, "invoice:")] == ["grant", "grant"]
    assert available(topology, 0, user) == CORE

    # Consume through both APIs; a retry on the other API is charged once.
    for n in range(4):
        with topology.api(n) as api:
            used = api.post("/v1/consume", json={"user_id": user, "feature": "export",
                                                 "idempotency_key": f"export-{n}"})
        assert used.status_code == 200, used.text
    with topology.api(0) as api:
        again = api.post("/v1/consume",
                         json={"user_id": user, "feature": "export", "idempotency_key": "export-3"})
    assert again.json()["replayed"] is True
    assert available(topology, 1, user) == CORE - 12

    # A pack, and a partial refund of it at Stripe.
    pack = checkout_and_pay(topology, 1, user, pack="credits", quantity=30)
    topology.sim.dispatcher.flush()
    wait_until("the pack", lambda: entries(topology, f"checkout:{pack}") != [], processes=everyone)
    payment_intent = topology.stripe.v1.checkout.sessions.retrieve(pack).payment_intent
    refund = topology.stripe.v1.refunds.create(params={"payment_intent": str(payment_intent), "amount": 100})
    topology.sim.dispatcher.flush()
    wait_until("the refund", lambda: entries(topology, f"refund:{refund.id}") != [], processes=everyone)
    assert entries(topology, f"refund:{refund.id}") == [(f"refund:{refund.id}", "refund", -5)]
    balance = CORE - 12 + 30 - 5
    assert available(topology, 0, user) == balance

    # SIGKILL a worker in the middle of a batch: its Stripe reads are slow (stripesim holds them 5 s, far
    # longer than the test takes to see the claim and kill; the survivor reads after the fault is gone).
    topology.sim.faults.configure({"api": [{"status": None, "path_prefix": "/v1/checkout/sessions",
                                            "method": "GET", "delay_ms": 5000}]})
    packs = [checkout_and_pay(topology, n, user, pack="credits", quantity=25) for n in range(3)]
    topology.sim.dispatcher.flush()
    holders = {str(worker.pid): worker for worker in topology.workers}
    victim: list[Process] = []

    def a_worker_holds_them() -> bool:
        with topology.db.unit_of_work(read_only=True) as session:
            locks = session.scalars(select(WebhookEvent.locked_by).where(
                WebhookEvent.type == "checkout.session.completed", WebhookEvent.status == "processing")).all()
        pids = {str(lock).split(":")[1] for lock in locks if lock}
        if pids:
            victim.append(holders[sorted(pids)[0]])
        return bool(pids)

    wait_until("a worker holding the new packs", a_worker_holds_them, processes=everyone)
    [dead] = victim[:1]
    dead.signal(signal.SIGKILL)
    assert dead.wait(10) == -signal.SIGKILL
    topology.sim.faults.clear()
    survivor = next(worker for worker in topology.workers if worker is not dead)
    took_s = wait_until("the dead worker's events taken over and applied", lambda: all(
        entries(topology, f"checkout:{session_id}") for session_id in packs), timeout_s=60,
        processes=[*topology.apis, survivor])
    print(f"takeover: every pack applied {took_s:.1f} s after the SIGKILL (lease {LEASE_S} s)")
    for session_id in packs:
        assert entries(topology, f"checkout:{session_id}") == [(f"checkout:{session_id}", "purchase", 25)]
    with topology.db.unit_of_work(read_only=True) as session:
        events = session.scalars(select(WebhookEvent).where(
            WebhookEvent.object_id.in_(packs), WebhookEvent.type == "checkout.session.completed")).all()
        assert sorted(str(event.object_id) for event in events) == sorted(packs)  # stored once each
        assert {event.status for event in events} == {"processed"}
        taken_over = [event for event in events if event.attempts >= 2]
        assert taken_over, "no event was claimed by the dead worker and then by the survivor"
        outcomes = session.execute(select(WebhookAttempt.worker, WebhookAttempt.outcome).where(
            WebhookAttempt.event_id.in_([event.id for event in events]))).all()
    assert all(f":{dead.pid}:" not in worker for worker, _ in outcomes)  # the dead one applied nothing
    assert sorted(outcome for _, outcome in outcomes) == ["processed"] * 3
    survivor_metrics = httpx.get(topology.worker_metrics[topology.workers.index(survivor)]).text
    assert metric(survivor_metrics, 'coinslot_lease_takeovers_total{queue="webhook_events"}') >= 1
    assert available(topology, 1, user) == balance + 75
    verified = CliRunner().invoke(cli, ["credits", "verify"], env={"COINSLOT_DATABASE_URL": topology.url})
    assert verified.exit_code == 0, verified.output

    # Every process shows metrics and JSON logs.
    api_metrics = httpx.get(f"{topology.api_urls[0]}/metrics").text
    assert metric(api_metrics, "coinslot_http_requests_total") > 0  # both API processes' figures, summed
    assert metric(api_metrics, "coinslot_inbox_backlog_events") == 0
    assert metric(api_metrics, "coinslot_database_up") == 1
    assert sum(float(line.split()[-1]) for line in survivor_metrics.splitlines()
               if line.startswith("coinslot_webhook_events_total{") and 'outcome="processed"' in line) >= 1
    access = [line for api in topology.apis for line in api.json_lines() if line.get("message") == "request"]
    assert any(line.get("customer") == user and line.get("request_id") for line in access)
    applied = [line for line in survivor.json_lines() if line.get("message") == "webhook event applied"]
    assert {line["stripe_event_id"][:4] for line in applied} == {"evt_"}
    assert any(str(line.get("customer", "")).startswith("cus_") for line in applied)

    # SIGTERM: every process stops cleanly.
    for process in [*topology.apis, survivor]:
        process.signal(signal.SIGTERM)
    assert [process.wait(40) for process in [*topology.apis, survivor]] == [0, 0, 0]

