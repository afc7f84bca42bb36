"""The spine: health, readiness, metrics, error envelopes and API keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.errors import Unauthorized
from coinslot.models import ApiKey, Base

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def client(db: Database) -> TestClient:
    settings = Settings(database_url=db.url, stripe_secret_key=None, _env_file=None)  # type: ignore[call-arg]
    return TestClient(create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False))


def test_health_and_readiness_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "now": NOW.isoformat()}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_every_answer_carries_a_request_id(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32


def test_metrics_are_exposed_in_prometheus_format(client: TestClient) -> None:
    client.get("/healthz")
    body = client.get("/metrics").text
    assert "coinslot_http_requests_total" in body
    # The queues' figures, read from the database at each scrape.
    for gauge in ("coinslot_database_up 1.0", "coinslot_inbox_backlog_events 0.0",
                  "coinslot_inbox_oldest_pending_age_seconds 0.0", "coinslot_inbox_dead_events 0.0",
                  "coinslot_outbox_backlog_messages 0.0", "coinslot_outbox_dead_messages 0.0"):
        assert gauge in body.splitlines()


def test_unknown_route_is_a_404_not_a_500(client: TestClient) -> None:
    assert client.get("/v1/nope").status_code == 404


def test_api_key_is_shown_once_and_verified_by_hash(db: Database) -> None:
    with db.unit_of_work() as session:
        created = apikeys.create_key(session, name="web-backend", now=NOW, scopes=["entitlements"])
    assert created.secret.startswith("cs_")
    with db.unit_of_work(read_only=True) as session:
        assert apikeys.verify_key(session, secret=created.secret, now=NOW).id == created.id
        with pytest.raises(Unauthorized):
            apikeys.verify_key(session, secret=created.secret + "x", now=NOW)
    with db.unit_of_work() as session:
        apikeys.revoke_key(session, key_id=created.id, now=NOW)
    with db.unit_of_work(read_only=True) as session, pytest.raises(Unauthorized):
        apikeys.verify_key(session, secret=created.secret, now=NOW)


def test_an_in_memory_sqlite_database_is_one_database_for_every_unit_of_work() -> None:
    # "sqlite:///:memory:" is a new, empty database per connection: the tables created here
    # must be the ones the next units of work write to and read from.
    database = Database("sqlite:///:memory:")
    Base.metadata.create_all(database.engine)
    with database.unit_of_work() as session:
        apikeys.create_key(session, name="memory", now=NOW, scopes=["read"])
    with database.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
    database.dispose()
