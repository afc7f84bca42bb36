"""The host's two ways in: the REST API (service mode) and a FastAPI dependency (library mode)."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.entitlements.core import Decision
from coinslot.entitlements.fastapi import FeatureGuard
from coinslot.ledger import service as ledger
from tests.integration.ledger_support import NOW, assert_verified
from tests.integration.test_entitlement_stories import EXAMPLES, PATCH_HIVE, pay_period, subscribe


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(
        database_url=db.url,
        catalog_path=EXAMPLES / "patch_hive.toml",  # type: ignore[call-arg]
        stripe_secret_key=None,
        _env_file=None,
    )


@pytest.fixture
def api(db: Database, settings: Settings) -> TestClient:
    with db.unit_of_work() as session:
        secret = apikeys.create_key(session, name="host", now=NOW, scopes=["admin"]).secret
        maya = subscribe(session, "maya", "core")
        pay_period(session, maya, PATCH_HIVE, "core", "in_core_nov")
    client = TestClient(create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False))
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def test_the_api_checks_consumes_and_refuses_with_402_and_the_reason(api: TestClient) -> None:
    checked = api.post("/v1/check", json={"user_id": "maya", "feature": "export"})
    assert checked.json() == {"allowed": True, "cost": 3, "remaining": 22, "reason": "ok", "plan": "core"}
    for number in range(8):
        used = api.post(
            "/v1/consume", json={"user_id": "maya", "feature": "export", "idempotency_key": f"e{number}"}
        )
        assert used.status_code == 200, used.text
    retried = api.post("/v1/consume", json={"user_id": "maya", "feature": "export", "idempotency_key": "e7"})
    assert (retried.json()["remaining"], retried.json()["replayed"]) == (1, True)
    refused = api.post("/v1/consume", json={"user_id": "maya", "feature": "export", "idempotency_key": "e8"})
    assert refused.status_code == 402
    assert refused.json()["error"] == {
        "code": "insufficient_credits",
        "message": "insufficient credits: need 3, have 1",
        "needed": 3,
        "available": 1,
    }
    not_in_plan = api.post(
        "/v1/consume", json={"user_id": "nobody", "feature": "export", "idempotency_key": "x"}
    )
    assert (not_in_plan.status_code, not_in_plan.json()["error"]["code"]) == (402, "feature_not_in_plan")
    assert api.get("/v1/credits/maya").json()["available_credits"] == 1
    assert api.get("/v1/credits/maya/history").json() == [
        {"month": "2026-11", "feature": "export", "uses": 8, "credits": 24}
    ]


def test_the_api_holds_then_captures_once(api: TestClient) -> None:
    held = api.post(
        "/v1/holds",
        json={
            "user_id": "maya",
            "feature": "export",
            "idempotency_key": "job-1",
            "credits": 10,
            "timeout_s": 600,
        },
    )
    assert held.status_code == 200, held.text
    hold_id = held.json()["hold_id"]
    assert (held.json()["remaining"], held.json()["status"]) == (15, "pending")
    captured = api.post(f"/v1/holds/{hold_id}/capture", json={"credits": 4})
    assert captured.json()["balance_after"] == 21
    assert api.post(f"/v1/holds/{hold_id}/release").status_code == 409
    too_much = api.post(
        "/v1/holds", json={"user_id": "maya", "feature": "export", "idempotency_key": "job-2", "credits": 50}
    )
    assert too_much.status_code == 402


def test_an_operator_adjustment_needs_a_reason(api: TestClient, db: Database) -> None:
    missing = api.post("/v1/credits/maya/adjustments", json={"credits": 5, "idempotency_key": "adj-1"})
    assert missing.status_code == 422
    done = api.post(
        "/v1/credits/maya/adjustments",
        json={"credits": -5, "reason": "duplicate grant", "idempotency_key": "adj-1"},
    )
    assert done.json()["balance_after"] == 20
    # A user coinslot has not seen has what a new user has (no 404); adjusting them is a 404.
    assert api.get("/v1/credits/unknown").json()["available_credits"] == 0
    assert api.post("/v1/credits/unknown/adjustments",
                    json={"credits": 5, "reason": "goodwill", "idempotency_key": "adj-2"}).status_code == 404
    assert_verified(db)


def test_a_host_route_is_guarded_in_one_line(db: Database, settings: Settings) -> None:
    with db.unit_of_work() as session:
        maya = subscribe(session, "maya", "core")
        ledger.credit(
            session,
            customer_id=maya,
            entry_id="checkout:cs_1",
            kind="purchase",
            credits=4,
            now=NOW,
            source="checkout:cs_1",
        )
    billing = FeatureGuard.from_settings(
        settings, user_id=lambda request: request.headers["x-user"], clock=FixedClock(NOW)
    )
    host = FastAPI()

    @host.post("/export")
    def export(use: Decision = Depends(billing.require_feature("export"))) -> dict[str, object]:
        return {"exported": True, "credits_left": use.remaining}

    @host.post("/share", dependencies=[Depends(billing.require_feature("patchbook"))])  # the one line
    def share() -> dict[str, bool]:
        return {"shared": True}

    client = TestClient(host)
    assert client.post("/export", headers={"x-user": "maya"}).json() == {"exported": True, "credits_left": 1}
    refused = client.post("/export", headers={"x-user": "maya"})
    assert refused.status_code == 402
    assert refused.json()["detail"] == {
        "reason": "insufficient_credits",
        "message": "insufficient credits: need 3, have 1",
    }
    assert (
        client.post("/export", headers={"x-user": "free-user"}).json()["detail"]["reason"]
        == "feature_not_in_plan"
    )
    assert client.post("/share", headers={"x-user": "maya"}).json() == {"shared": True}
    billing.container.db.dispose()


def test_a_service_mode_host_guards_an_export_in_one_call_with_the_python_client(
    db: Database, settings: Settings
) -> None:
    from coinslot.client import CoinslotClient, CoinslotError
    from tests.support.servers import ServerThread

    with db.unit_of_work() as session:
        secret = apikeys.create_key(session, name="host", now=NOW, scopes=["admin"]).secret
        maya = subscribe(session, "maya", "core")
        pay_period(session, maya, PATCH_HIVE, "core", "in_core_nov")
        ledger.spend(session, customer_id=maya, entry_id="key:setup", credits=20, feature="export", now=NOW)
    app = create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False)
    with ServerThread(app) as server, CoinslotClient(server.url, secret) as billing:
        assert billing.check(host_user_id="maya", feature="export").remaining == 2
        used = billing.consume(host_user_id="maya", feature="export", idempotency_key="export-1")
        assert (used.allowed, used.remaining) == (True, 2)
        retried = billing.consume(host_user_id="maya", feature="export", idempotency_key="export-1")
        assert (retried.replayed, retried.remaining) == (True, 2)
        with pytest.raises(CoinslotError) as refused:
            billing.consume(host_user_id="maya", feature="export", idempotency_key="export-2")
        assert (refused.value.status, refused.value.code) == (402, "insufficient_credits")
        assert refused.value.message == "insufficient credits: need 3, have 2"
        assert billing.get_credits("maya").available_credits == 2
        # The 0.1 names still work, with a warning, for one release.
        with pytest.warns(DeprecationWarning, match="user_id= is deprecated"):
            assert billing.check(user_id="maya", feature="export").remaining == 2  # type: ignore[call-arg]
        with pytest.warns(DeprecationWarning, match=r"credits\(\) is deprecated"):
            assert billing.credits("maya").available_credits == 2
    assert_verified(db)
