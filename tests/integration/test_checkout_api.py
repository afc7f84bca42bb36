"""The /v1 checkout, order and customer routes: bad input gets a clear error and changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.models import CheckoutSession, Customer, Order
from tests.support.servers import free_port

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
URLS = {"success_url": "https://app.example.com/billing", "cancel_url": "https://app.example.com/pricing"}


def make_client(db: Database, catalog: str) -> TestClient:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=db.url,
        catalog_path=CATALOGS / f"{catalog}.toml",
        # Nothing listens there: every Stripe call fails to connect, as when Stripe is down.
        stripe_secret_key="sk_test_unreachable",
        stripe_api_base=f"http://127.0.0.1:{free_port()}",
        stripe_max_network_retries=0,
        stripe_timeout_s=2,
        allowed_redirect_origins="https://app.example.com",
        order_payload_max_bytes=1024,
    )
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="test", now=NOW, scopes=["billing", "read"])
    return TestClient(
        create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False),
        headers={"Authorization": f"Bearer {key.secret}"},
    )


@pytest.fixture
def patch_hive(db: Database) -> TestClient:
    return make_client(db, "patch_hive")


@pytest.fixture
def skinova(db: Database) -> TestClient:
    return make_client(db, "skinova")


def count(db: Database, model: type) -> int:
    with db.unit_of_work(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def start(client: TestClient, **body: object) -> tuple[int, dict[str, object]]:
    response = client.post("/v1/checkout/sessions", json={"host_user_id": "user_1", **URLS, **body})
    return response.status_code, response.json()


def test_checkout_needs_an_api_key(patch_hive: TestClient) -> None:
    response = patch_hive.post(
        "/v1/checkout/sessions", json={"plan": "pro", **URLS}, headers={"Authorization": ""}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"plan": "platinum"}, 404, "plan"),
        ({"lookup_key": "price_copied_from_dashboard"}, 404, "lookup_key"),
        ({"plan": "pro", "mode": "payment"}, 422, "mode"),
        ({"pack": "credits", "quantity": 0}, 422, "quantity"),
        ({"pack": "credits", "quantity": -5}, 422, "quantity"),
        ({"pack": "credits", "quantity": 10}, 422, "quantity"),
        ({"plan": "pro", "success_url": "https://evil.example.net/"}, 422, "success_url"),
        ({"plan": "pro", "cancel_url": "https://app.example.com.evil.net/"}, 422, "cancel_url"),
        ({"plan": "pro", "pack": "credits"}, 422, "item"),
    ],
)
def test_bad_checkout_requests_are_refused_and_change_nothing(
    db: Database, patch_hive: TestClient, body: dict[str, object], status: int, field: str
) -> None:
    code, answer = start(patch_hive, **body)
    assert code == status, answer
    assert answer["error"]["field"] == field  # type: ignore[index]
    assert count(db, Customer) == count(db, CheckoutSession) == 0


def test_below_the_pack_minimum_names_the_minimum(patch_hive: TestClient) -> None:
    code, answer = start(patch_hive, pack="credits", quantity=10)
    assert code == 422
    assert (
        answer["error"]["message"]
        == "10 credits cost $2.00, below the minimum of $5.00: buy at least 25 credits"
    )  # type: ignore[index]


def test_stripe_unreachable_is_a_503_with_retry_advice_and_no_rows(
    db: Database, patch_hive: TestClient
) -> None:
    response = patch_hive.post(
        "/v1/checkout/sessions", json={"host_user_id": "user_1", "plan": "pro", **URLS}
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"  # Stripe's blips are short (errors.StripeUnavailable)
    assert response.json()["error"]["code"] == "stripe_unavailable"
    assert count(db, Customer) == count(db, CheckoutSession) == count(db, Order) == 0


def test_a_draft_survives_stripe_being_down_and_stays_resumable(db: Database, skinova: TestClient) -> None:
    created = skinova.post(
        "/v1/orders",
        json={
            "host_user_id": "skin_1",
            "product": "consultation",
            "payload": {"notes": "mole on the back", "image_urls": []},
        },
    )
    assert created.status_code == 201
    order_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    response = skinova.post(f"/v1/orders/{order_id}/checkout", json=URLS)
    assert response.status_code == 503
    again = skinova.get(f"/v1/orders/{order_id}", params={"host_user_id": "skin_1"}).json()
    assert (again["status"], again["payload"]["notes"]) == ("draft", "mole on the back")
    assert count(db, CheckoutSession) == 0
    drafts = skinova.get("/v1/orders", params={"host_user_id": "skin_1", "status": "draft"}).json()
    assert [order["id"] for order in drafts] == [order_id]


def test_an_oversized_consultation_form_is_a_413(db: Database, skinova: TestClient) -> None:
    response = skinova.post(
        "/v1/orders",
        json={"host_user_id": "skin_1", "product": "consultation", "payload": {"notes": "x" * 2000}},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    code, _ = start(skinova, product="consultation", payload={"notes": "x" * 2000})
    assert code == 413
    assert count(db, Order) == 0


def test_the_host_moves_an_order_on_but_cannot_mark_it_paid(skinova: TestClient) -> None:
    order_id = skinova.post("/v1/orders", json={"host_user_id": "skin_1", "product": "consultation"}).json()[
        "id"
    ]
    assert skinova.post(f"/v1/orders/{order_id}/status", json={"status": "paid"}).status_code == 422
    assert skinova.post(f"/v1/orders/{order_id}/status", json={"status": "fulfilled"}).status_code == 409
    canceled = skinova.post(f"/v1/orders/{order_id}/status", json={"status": "canceled"})
    assert canceled.json()["status"] == "canceled"
    other = skinova.get(f"/v1/orders/{order_id}", params={"host_user_id": "someone_else"})
    assert other.status_code == 404


def test_a_new_user_summary_shows_the_free_plan_and_no_credits(patch_hive: TestClient) -> None:
    # Before coinslot has seen the user: answered as the user they would start as, never a 404.
    unseen = patch_hive.get("/v1/customers/user_9")
    assert (unseen.status_code, unseen.json()["known"], unseen.json()["plan"]) == (200, False, "free")
    ensured = patch_hive.post("/v1/customers", json={"host_user_id": "user_9", "stripe": False})
    assert ensured.json()["stripe_customer_id"] is None
    summary = patch_hive.get("/v1/customers/user_9").json()
    assert (summary["plan"], summary["access_reason"], summary["subscription"]) == (
        "free",
        "no_subscription",
        None,
    )
    assert summary["credits"]["available"] == 0
