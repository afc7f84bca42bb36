"""A database that is locked (SQLite) or down (PostgreSQL): every route answers 503 with Retry-After
and the error envelope (pages: the error page), /readyz says not ready, and nothing is half-written:
once the database is back, the same requests succeed, once."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.models import LedgerEntry, UsedSignedLink, WebhookEvent
from tests.conftest import create_schema
from tests.integration.test_entitlement_stories import PATCH_HIVE, pay_period, subscribe
from tests.support.postgres import PostgresServer
from tests.support.webhooks import SECRET, event_body, signed

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
PAGE_SECRET = "outage-session-secret-outage-session-secret"


@dataclass
class Running:
    db: Database
    client: TestClient
    api_key: str


def start(url: str) -> Running:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, stripe_secret_key=None, stripe_webhook_secrets=SECRET,
        catalog_path=CATALOGS / "patch_hive.toml", public_url="http://testserver",
        session_secret=PAGE_SECRET, database_lock_timeout_s=0.3, database_connect_timeout_s=1,
    )
    db = Database.for_settings(settings)
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["entitlements", "links"]).secret
        maya = subscribe(session, "maya", "core")
        pay_period(session, maya, PATCH_HIVE, "core", "in_core_nov")
    client = TestClient(create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False))
    return Running(db, client, key)


def consume(running: Running, key: str) -> httpx.Response:
    body = {"user_id": "maya", "feature": "export", "idempotency_key": key}
    headers = {"Authorization": f"Bearer {running.api_key}"}
    return running.client.post("/v1/consume", json=body, headers=headers)


def link(running: Running) -> str:
    answer = running.client.post("/v1/links", json={"host_user_id": "maya", "page": "billing"},
                                 headers={"Authorization": f"Bearer {running.api_key}"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["url"]).removeprefix("http://testserver")


def assert_unavailable(running: Running, webhook: bytes, page: str) -> None:
    """Every kind of route, while the database cannot write."""
    spent = consume(running, "during-outage")
    assert spent.status_code == 503
    assert spent.json()["error"]["code"] == "database_unavailable"
    assert "retry" in spent.json()["error"]["message"]
    assert spent.headers["Retry-After"] == "5"
    delivered = running.client.post("/webhooks/stripe", content=webhook, headers=signed(webhook))
    assert (delivered.status_code, delivered.json()["error"]["code"]) == (503, "database_unavailable")
    assert "Retry-After" in delivered.headers
    opened = running.client.get(page, follow_redirects=False)
    assert opened.status_code == 503
    assert "text/html" in opened.headers["content-type"]
    assert "Billing is unavailable right now" in opened.text
    assert "Retry-After" in opened.headers
    ready = running.client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (503, "unavailable")


def assert_nothing_half_written_then_retries_succeed(running: Running, webhook: bytes, page: str) -> None:
    with running.db.unit_of_work(read_only=True) as session:
        spends = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "spend")
        assert session.scalar(spends) == 0
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
        assert session.scalar(select(func.count()).select_from(UsedSignedLink)) == 0
    assert running.client.get("/readyz").json()["status"] == "ready"
    assert consume(running, "during-outage").status_code == 200
    assert consume(running, "during-outage").json()["replayed"] is True
    delivered = running.client.post("/webhooks/stripe", content=webhook, headers=signed(webhook))
    assert delivered.status_code == 200
    assert running.client.get(page, follow_redirects=False).status_code == 303


def test_a_locked_sqlite_database_answers_503_everywhere_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coinslot.db'}"
    create_schema(url)
    running = start(url)
    try:
        checked = running.client.post("/v1/check", json={"user_id": "maya", "feature": "export"},
                                      headers={"Authorization": f"Bearer {running.api_key}"})
        assert checked.json()["allowed"] is True
        page = link(running)
        webhook = event_body("customer.created", {"id": "cus_x", "object": "customer"})
        holder = sqlite3.connect(tmp_path / "coinslot.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (a backup, a long script)
        try:
            assert_unavailable(running, webhook, page)
            assert "locked" in running.client.get("/readyz").json()["reason"]
            assert running.client.get("/healthz").status_code == 200  # the process itself is fine
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert_nothing_half_written_then_retries_succeed(running, webhook, page)
    finally:
        running.db.dispose()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own, so that stopping it stops nobody else's tests."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.mark.postgres
def test_a_postgresql_server_that_is_down_answers_503_everywhere_and_writes_nothing(
    postgres: PostgresServer, own_postgres: PostgresServer
) -> None:
    url = own_postgres.url(own_postgres.create_database())
    create_schema(url)
    running = start(url)
    try:
        page = link(running)
        webhook = event_body("customer.created", {"id": "cus_x", "object": "customer"})
        assert running.client.get("/readyz").json()["status"] == "ready"
        own_postgres.pause()
        try:
            assert_unavailable(running, webhook, page)
        finally:
            own_postgres.resume()
        assert_nothing_half_written_then_retries_succeed(running, webhook, page)
    finally:
        running.db.dispose()


@pytest.mark.postgres
def test_a_read_only_postgresql_is_not_ready_and_writes_answer_503(postgres: PostgresServer) -> None:
    name = postgres.create_database()
    url = postgres.url(name)
    create_schema(url)
    running = start(url)
    try:
        with running.db.engine.begin() as connection:  # e.g. a primary switched to read-only for a failover
            connection.exec_driver_sql(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
        running.db.engine.dispose()  # new connections see the setting
        ready = running.client.get("/readyz")
        assert (ready.status_code, ready.json()["reason"]) == (503, "the server is read-only")
        spent = consume(running, "read-only")
        assert (spent.status_code, spent.json()["error"]["code"]) == (503, "database_unavailable")
    finally:
        running.db.dispose()
        postgres.drop_database(name)
