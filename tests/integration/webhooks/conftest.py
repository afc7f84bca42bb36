"""A coinslot container on each database, a customer linked to Stripe, and the catalog of Patch-Hive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coinslot.app import create_app
from coinslot.catalog.core import Catalog
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.db import Database
from tests.support.webhooks import OLD_SECRET, SECRET, SnapshotReader, patch_hive

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
STRIPE_CUSTOMER = "cus_alice"
PATCH_HIVE_TOML = Path(__file__).resolve().parents[3] / "examples" / "catalogs" / "patch_hive.toml"


def make_settings(db: Database, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db.url,
        "stripe_secret_key": "sk_test_unused",
        "stripe_api_base": "http://127.0.0.1:9",  # nothing listens: reaching Stripe by accident fails
        "stripe_webhook_secrets": f"{SECRET},{OLD_SECRET}",
        "stripe_max_network_retries": 0,
        "webhook_max_attempts": 3,
        "webhook_retry_base_s": 10.0,
        "webhook_retry_cap_s": 60.0,
        "log_json": False,
        "catalog_path": PATCH_HIVE_TOML,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def container(db: Database, clock: FixedClock) -> Container:
    return Container(settings=make_settings(db), db=db, clock=clock)


@pytest.fixture
def client(container: Container) -> TestClient:
    app = create_app(container.settings, db=container.db, clock=container.clock, configure_logs=False)
    return TestClient(app)


@pytest.fixture
def catalog() -> Catalog:
    return patch_hive()


@pytest.fixture
def reader() -> SnapshotReader:
    return SnapshotReader()


@pytest.fixture
def alice(container: Container) -> int:
    """A host user whose Stripe customer is cus_alice; returns the customer id."""
    with container.db.unit_of_work() as session:
        customer = customers.ensure_customer(
            session, host_user_id="alice", email="alice@example.com", now=NOW
        )
        customers.link_stripe_customer(
            session, customer_id=customer.id, stripe_customer_id=STRIPE_CUSTOMER, livemode=False, now=NOW
        )
        return customer.id
