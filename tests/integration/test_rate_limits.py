"""The public surfaces answer 429 with Retry-After past their configured limit, per client address: the
public pricing and GET /v1/plans, opening signed links, and the webhook receiver (issue 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.models import WebhookEvent
from tests.support.webhooks import SECRET, event_body, signed

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


def make_app(db: Database, **limits: int) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, catalog_path=CATALOGS / "patch_hive.toml",
        stripe_secret_key=None, stripe_webhook_secrets=SECRET,
        session_secret="rate-limits-secret-rate-limits-secret-rl",
        public_pricing_cta_url="https://app.example.com/signup?plan={plan}", **limits,
    )
    return create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False)


def test_the_catalog_answers_429_with_retry_after_once_an_address_is_over_its_limit(db: Database) -> None:
    app = make_app(db, rate_limit_public_per_min=3)
    client = TestClient(app)
    assert [client.get("/v1/plans").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/v1/plans")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "20"  # 3 a minute: the next one in 20 s
    assert refused.json()["error"] == {
        "code": "rate_limited", "message": "too many requests for the public pricing from this address: "
                                           "retry in 20 s"}
    assert client.get("/pricing").status_code == 429  # the page and the API share the allowance
    elsewhere = TestClient(app, client=("10.0.0.2", 5000))
    assert elsewhere.get("/v1/plans").status_code == 200  # another address has its own allowance


def test_the_public_pricing_page_answers_a_429_page(db: Database) -> None:
    client = TestClient(make_app(db, rate_limit_public_per_min=1))
    assert client.get("/pricing").status_code == 200
    refused = client.get("/pricing")
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert refused.headers["retry-after"] == "60"
    assert "Too many requests" in refused.text


def test_opening_links_is_limited_per_address_even_when_every_link_is_forged(db: Database) -> None:
    client = TestClient(make_app(db, rate_limit_links_per_min=5))
    answers = [client.get("/billing/enter", params={"token": f"forged-{n}"}, follow_redirects=False)
               for n in range(7)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429] * 2  # guessing stops at 5
    assert answers[-1].headers["retry-after"] == "12"


def test_the_webhook_receiver_is_limited_per_source_and_stores_nothing_past_it(db: Database) -> None:
    client = TestClient(make_app(db, rate_limit_webhooks_per_min=2))
    bodies = [event_body("invoice.paid", {"id": f"in_{n}"}, event_id=f"evt_{n}") for n in range(3)]
    answers = [client.post("/webhooks/stripe", content=body, headers=signed(body)) for body in bodies]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["error"]["code"] == "rate_limited"
    assert answers[2].headers["retry-after"] == "30"  # Stripe retries it then
    with db.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 2


def test_a_limit_of_zero_is_off(db: Database) -> None:
    client = TestClient(make_app(db, rate_limit_public_per_min=0, rate_limit_links_per_min=0))
    assert {client.get("/v1/plans").status_code for _ in range(200)} == {200}
