"""Bad input is the caller's mistake: a 4xx naming what to fix, never a 500 (on SQLite and PostgreSQL).

And when something does fail unexpectedly, the 500 carries the request id to quote, in the
body and in the X-Request-Id header, so the operator can find the logged traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.ledger import service as ledger
from coinslot.models import Customer
from tests.support.servers import free_port

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
HUGE = "99999999999999999999999"  # above BIGINT: the database driver cannot even bind it
ADMIN_PASSWORD = "admin-bad-input-password"


@pytest.fixture
def app(db: Database) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=db.url,
        catalog_path=CATALOGS / "patch_hive.toml",
        # Nothing listens there: a request that gets as far as Stripe fails to connect (503), never a 500.
        stripe_secret_key="sk_test_unreachable",
        stripe_api_base=f"http://127.0.0.1:{free_port()}",
        stripe_max_network_retries=0,
        stripe_timeout_s=2,
        public_url="http://testserver",
        allowed_redirect_origins="https://app.example.com",
        session_secret="bad-input-session-secret-bad-input",
        admin_password=ADMIN_PASSWORD,
    )
    return create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False)


@pytest.fixture
def api(app: FastAPI, db: Database) -> TestClient:
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["admin"])
    return TestClient(app, headers={"Authorization": f"Bearer {key.secret}"})


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# --- malformed URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_url", ["http://[::1", "https://app.example.com:99999/", "https://app.example.com:x/"]
)
def test_a_malformed_return_url_is_a_422_naming_the_field_on_every_route(
    api: TestClient, bad_url: str
) -> None:
    checkout = api.post("/v1/checkout/sessions", json={
        "host_user_id": "u1", "plan": "pro", "success_url": bad_url, "cancel_url": "https://app.example.com/",
    })
    link = api.post("/v1/links", json={"host_user_id": "u1", "return_url": bad_url})
    portal = api.post("/v1/customers/u1/portal", json={"return_url": bad_url})

    for answer, field in ((checkout, "success_url"), (link, "return_url"), (portal, "return_url")):
        assert answer.status_code == 422, answer.text
        assert error_of(answer)["field"] == field
        assert "not a valid URL" in error_of(answer)["message"] or "http(s)" in error_of(answer)["message"]


# --- numbers out of range ------------------------------------------------------------------------


def test_a_hold_id_beyond_any_database_id_is_a_422(api: TestClient) -> None:
    capture = api.post(f"/v1/holds/{HUGE}/capture", json={"credits": 1})
    release = api.post(f"/v1/holds/{HUGE}/release")
    assert (capture.status_code, release.status_code) == (422, 422)
    assert error_of(capture)["field"] == "path.hold_id"


def test_credits_beyond_any_balance_are_a_422(api: TestClient) -> None:
    spend = api.post("/v1/credits/u1/spend", json={"credits": 10**30, "idempotency_key": "k1"})
    adjust = api.post("/v1/credits/u1/adjustments",
                      json={"credits": -(10**30), "reason": "typo", "idempotency_key": "k2"})
    assert (spend.status_code, adjust.status_code) == (422, 422)
    assert error_of(spend)["field"] == "credits"


def admin_login(client: TestClient) -> str:
    """Sign the operator in; returns the admin session's CSRF token for forms."""
    form = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed_in = client.post("/admin/login", data={"csrf_token": token.group(1), "password": ADMIN_PASSWORD})
    assert signed_in.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin").text)
    assert csrf is not None
    return csrf.group(1)


def test_the_admin_console_answers_impossible_ids_and_amounts_with_a_page_not_a_500(
    app: FastAPI, db: Database
) -> None:
    with db.unit_of_work() as session:
        customer = Customer(host_user_id="u1", created_at=NOW, updated_at=NOW)
        session.add(customer)
        session.flush()
        customer_id = customer.id
    browser = TestClient(app)
    csrf = admin_login(browser)

    assert browser.get(f"/admin/customers/{HUGE}").status_code == 422
    assert browser.get("/admin/customers/424242").status_code == 404
    assert browser.get(f"/admin/events/{HUGE}").status_code == 404
    # PostgreSQL stores no NUL character: the search is refused as input (SQLite just finds nothing).
    assert browser.get("/admin/customers", params={"q": "a\x00b"}).status_code in (200, 422)

    form = {"csrf_token": csrf, "reason": "goodwill", "adjustment_id": "a1"}
    too_many = browser.post(f"/admin/customers/{customer_id}/credits", data={**form, "credits": str(10**30)})
    assert too_many.status_code == 422
    nobody = browser.post("/admin/customers/424242/credits", data={**form, "credits": "5"})
    assert nobody.status_code == 404
    assert "no customer 424242" in nobody.text
    with db.unit_of_work(read_only=True) as session:
        assert ledger.balance(session, customer_id=customer_id, now=NOW).available_credits == 0


# --- bodies that are not JSON --------------------------------------------------------------------


def test_a_body_that_is_not_json_is_named_as_such(api: TestClient) -> None:
    answer = api.post("/v1/check", content=b'{"user_id": "u1", "feature": ', headers={
        "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert error_of(answer) == {"code": "invalid_input", "message": "request body is not valid JSON",
                                "field": None}


# --- the unexpected ------------------------------------------------------------------------------


def test_an_unexpected_error_answers_500_with_the_request_id_to_quote(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/broken", broken)
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="coinslot.http"):
        answer = client.get("/v1/broken", headers={"X-Request-Id": "req-1234"})

    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "req-1234"
    assert error_of(answer) == {
        "code": "internal_error", "message": "internal error; quote request id req-1234"
    }
    assert "a bug" not in answer.text
    logged = [record for record in caplog.records if record.message == "unhandled error"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None  # the traceback is in the log, not in the answer


# --- every POST route, fed garbage ---------------------------------------------------------------

GARBAGE_BODIES: list[bytes] = [
    b"", b"{", b"null", b"[]", b'"text"', b"12", b"{}", b'{"a": {"b": [1, 2, {"c": null}]}}',
    b"\xff\xfe\x00", b'{"' + b"x" * 5000 + b'": 1}',
]
# Values tried in every field a route's body declares: wrong types, huge numbers, long and odd strings.
GARBAGE_VALUES: list[Any] = [
    None, True, -1, 0, 10**30, -(10**30), 1.5e308, "", "x" * 10_000, "http://[::1", "\x00", "☃",
    [], {}, {"nested": [1]},
]


def body_fields(schema: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    if not reference:
        return []
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    return list(component.get("properties", {}))


def test_no_garbage_posted_to_any_v1_route_gets_a_500(app: FastAPI, api: TestClient) -> None:
    schema = app.openapi()
    routes = [(path, operation) for path, item in schema["paths"].items() if path.startswith("/v1")
              for method, operation in item.items() if method == "post"]
    assert len(routes) >= 10  # the schema really lists the API
    client = TestClient(app, raise_server_exceptions=False, headers=api.headers)
    tried = 0
    for template, operation in routes:
        for path_value in ("u1", HUGE, "-1", "%00", "x" * 300):
            path = re.sub(r"\{[^}]+\}", path_value, template)
            for raw in GARBAGE_BODIES:
                answer = client.post(path, content=raw, headers={"Content-Type": "application/json"})
                assert answer.status_code != 500, (path, raw[:40], answer.text)
                tried += 1
        path = re.sub(r"\{[^}]+\}", "u1", template)
        for field in body_fields(schema, operation):
            for value in GARBAGE_VALUES:
                answer = client.post(path, json={field: value, "host_user_id": "u1", "user_id": "u1"})
                assert answer.status_code != 500, (path, field, repr(value)[:40], answer.text)
                tried += 1
    assert tried > 500
