"""A live key is real money: coinslot refuses to start with guessable page secrets, and never mixes
Stripe objects of the two modes (events of the other mode are stored and ignored, customers linked
in the other mode are refused), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.customers import flows as customer_flows
from coinslot.db import Database
from coinslot.errors import Conflict, InvalidInput
from coinslot.models import Alert, Customer, WebhookEvent
from coinslot.stripe_gateway.events import parse_verified_event
from coinslot.webhooks.inbox import store_event
from coinslot.webhooks.worker import process_due
from tests.support.servers import free_port

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
STRONG_SECRET = "a-session-secret-of-forty-characters-xyz"
LIVE_KEY = "sk_live_never_used_no_network_here"
TEST_KEY = "sk_test_never_used_no_network_here"


def settings(db_url: str = "sqlite:///unused.db", **values: Any) -> Settings:
    base: dict[str, Any] = {
        "_env_file": None, "database_url": db_url, "catalog_path": CATALOGS / "patch_hive.toml",
        # Nothing listens there: none of these stories may reach Stripe.
        "stripe_api_base": f"http://127.0.0.1:{free_port()}", "stripe_max_network_retries": 0,
        "public_url": "http://testserver", "stripe_secret_key": LIVE_KEY,
        "session_secret": STRONG_SECRET, "admin_password": "a-long-admin-password",
    }
    return Settings(**{**base, **values})


# --- start-up ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("session_secret", None, "is not set"),
        ("session_secret", "short-secret", "shorter than 32"),
        ("session_secret", "replace-with-32-random-bytes", "placeholder"),
        ("admin_password", "replace-me", "placeholder"),
        ("admin_password", "eleven-char", "shorter than 12"),
    ],
)
def test_a_live_key_refuses_to_start_with_a_weak_page_secret(
    db: Database, variable: str, value: str | None, problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_app(settings(db.url, **{variable: value}), db=db, configure_logs=False)
    assert refused.value.field == f"COINSLOT_{variable.upper()}"
    assert problem in refused.value.message
    assert "live Stripe key" in refused.value.message


def test_a_live_key_starts_with_strong_secrets_and_without_an_admin_console(db: Database) -> None:
    app = create_app(settings(db.url, admin_password=None), db=db, configure_logs=False)
    assert TestClient(app).get("/healthz").status_code == 200


def test_test_mode_without_a_session_secret_makes_one_up_and_says_so(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="coinslot.config"):
        app = create_app(settings(db.url, stripe_secret_key=TEST_KEY, session_secret=None,
                                  admin_password="replace-me"), db=db, clock=FixedClock(NOW),
                         configure_logs=False)
    assert any("COINSLOT_SESSION_SECRET is not set" in record.message for record in caplog.records)
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["billing", "links"]).secret
    client = TestClient(app)
    link = client.post("/v1/links", json={"host_user_id": "u1"}, headers={"Authorization": f"Bearer {key}"})
    assert link.status_code == 200  # the pages work out of the box in test mode
    assert client.get(link.json()["url"].removeprefix("http://testserver")).status_code == 200


# --- webhook events of the other mode ------------------------------------------------------------


def event_payload(*, livemode: bool) -> bytes:
    return json.dumps({
        "id": "evt_other_mode", "object": "event", "api_version": "2026-10-28.endive",
        "created": int(NOW.timestamp()), "livemode": livemode, "type": "customer.subscription.updated",
        "data": {"object": {"id": "sub_1", "object": "subscription", "customer": "cus_1"}},
    }).encode()


@pytest.mark.parametrize(("key", "event_livemode"), [(TEST_KEY, True), (LIVE_KEY, False)])
def test_an_event_of_the_other_mode_is_stored_ignored_and_alerted(
    db: Database, caplog: pytest.LogCaptureFixture, key: str, event_livemode: bool
) -> None:
    container = Container(settings=settings(db.url, stripe_secret_key=key), db=db, clock=FixedClock(NOW))
    payload = event_payload(livemode=event_livemode)
    with db.unit_of_work() as session:
        store_event(session, event=parse_verified_event(payload), payload=payload, now=NOW)

    with caplog.at_level(logging.WARNING, logger="coinslot.webhooks"):
        assert process_due(container) == 1  # no Stripe read: the key could not see that mode's objects

    with db.unit_of_work(read_only=True) as session:
        event = session.scalars(select(WebhookEvent)).one()
        alerts = session.scalars(select(Alert)).all()
    assert (event.status, event.livemode) == ("ignored", event_livemode)
    assert [alert.code for alert in alerts] == ["webhook.other_mode"]
    assert alerts[0].subject_id == "evt_other_mode"
    assert any(record.message == "webhook event of the other mode ignored" for record in caplog.records)


# --- customers linked in the other mode ----------------------------------------------------------


def linked_in_live_mode(db: Database) -> None:
    with db.unit_of_work() as session:
        session.add(Customer(host_user_id="u_live", stripe_customer_id="cus_live_1", livemode=True,
                             created_at=NOW, updated_at=NOW))


def test_a_customer_linked_in_live_mode_is_never_used_with_a_test_key(db: Database) -> None:
    linked_in_live_mode(db)
    config = settings(db.url, stripe_secret_key=TEST_KEY)
    container = Container(settings=config, db=db, clock=FixedClock(NOW))
    with pytest.raises(Conflict) as refused:
        customer_flows.ensure_stripe_customer(container, host_user_id="u_live")
    assert refused.value.code == "customer_other_mode"
    assert "Relink it" in refused.value.message

    app = create_app(config, db=db, clock=FixedClock(NOW), configure_logs=False)
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["billing", "links"]).secret
    api = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    for route in ("subscription/cancel", "subscription/resume"):
        answer = api.post(f"/v1/customers/u_live/{route}")
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "customer_other_mode"
    portal = api.post("/v1/customers/u_live/portal", json={"return_url": "http://testserver/billing"})
    assert portal.status_code == 409
