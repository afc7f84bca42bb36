"""What an attacker or a careless client sends, answered with a clear 4xx and nothing changed (issue 13):
forms that cannot be parsed, bodies of any size, amounts that are not whole numbers, Stripe ids that are
not ids. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.body_limit import BODY_MAX_BYTES
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.models import LedgerEntry, Order
from tests.support.servers import ServerThread, free_port

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
ADMIN_PASSWORD = "hostile-input-admin-password"


@pytest.fixture
def app(db: Database) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, catalog_path=CATALOGS / "skinova.toml",
        # Nothing listens there: a request that reaches for Stripe fails to connect (a 503), and the tests
        # below prove that a bad id never gets that far.
        stripe_secret_key="sk_test_unreachable", stripe_api_base=f"http://127.0.0.1:{free_port()}",
        stripe_max_network_retries=0, stripe_timeout_s=2,
        public_url="http://testserver", allowed_redirect_origins="https://app.example.com",
        session_secret="hostile-input-session-secret-hostile", admin_password=ADMIN_PASSWORD,
    )
    return create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False)


@pytest.fixture
def api(app: FastAPI, db: Database) -> TestClient:
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["admin"])
    return TestClient(app, headers={"Authorization": f"Bearer {key.secret}"}, raise_server_exceptions=False)


def signed_in_customer(app: FastAPI, api: TestClient) -> tuple[TestClient, str]:
    """A browser with a customer session, and the CSRF token its forms carry."""
    browser = TestClient(app, raise_server_exceptions=False)
    link = api.post("/v1/links", json={"host_user_id": "u1", "page": "pricing"}).json()["url"]
    page = browser.get(link)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return browser, token.group(1)


# --- forms that cannot be parsed -----------------------------------------------------------------

MULTIPART = "multipart/form-data; boundary=xyz"
URLENCODED = "application/x-www-form-urlencoded"


def _part(name: str, value: str) -> str:
    return f'--xyz\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'


MALFORMED_FORMS: dict[str, tuple[str, bytes, int]] = {
    "more than 1,000 fields": (URLENCODED, b"&".join(b"f%d=1" % n for n in range(1001)), 400),
    "more than 1,000 multipart fields": (
        MULTIPART, ("".join(_part(f"f{n}", "1") for n in range(1001)) + "--xyz--\r\n").encode(), 413),
    "a part over 1 MB": (
        MULTIPART, (_part("password", "x" * (1024 * 1024 + 1)) + "--xyz--\r\n").encode(), 413),
    "multipart without a boundary": ("multipart/form-data", _part("password", "x").encode(), 400),
    "multipart with an empty boundary": ("multipart/form-data; boundary=", b"--\r\n\r\n", 400),
    # Read as far as it goes: no field, so no CSRF token either.
    "a multipart body that never ends": (
        MULTIPART, b'--xyz\r\nContent-Disposition: form-data; name="a"', 403),
    "a part with no name": (
        MULTIPART, b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz--\r\n", 400),
    "a part with no headers": (MULTIPART, b"--xyz\r\n\r\nvalue\r\n--xyz--\r\n", 400),
    "a form over the page limit": (URLENCODED, b"password=" + b"x" * BODY_MAX_BYTES, 413),
}


@pytest.mark.parametrize("case", list(MALFORMED_FORMS))
@pytest.mark.parametrize("who", ["anonymous", "customer", "operator"])
def test_a_form_that_cannot_be_parsed_is_a_400_or_413_page_from_anyone(
    app: FastAPI, api: TestClient, who: str, case: str
) -> None:
    content_type, body, status = MALFORMED_FORMS[case]
    if who == "anonymous":
        browser, path = TestClient(app, raise_server_exceptions=False), "/admin/login"
    elif who == "customer":
        browser, _csrf = signed_in_customer(app, api)
        path = "/billing/checkout"
    else:
        browser = TestClient(app, raise_server_exceptions=False)
        admin_login(browser)
        path = "/admin/customers/1/credits"
    answer = browser.post(path, content=body, headers={"Content-Type": content_type})
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert "Traceback" not in answer.text
    expected = {400: "could not be read", 403: "This form has expired", 413: "larger than this page accepts"}
    assert expected[status] in answer.text


def admin_login(browser: TestClient) -> None:
    form = browser.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed_in = browser.post("/admin/login", data={"csrf_token": token.group(1), "password": ADMIN_PASSWORD})
    assert signed_in.status_code == 200


# --- JSON bodies are bounded before they are parsed ----------------------------------------------


def _post_until_answered(server: ServerThread, key: str, *, declared_bytes: int | None) -> tuple[bytes, int]:
    """POST /v1/orders over a socket, sending an endless body in 64 KiB chunks until the server answers;
    returns the answer and how many body bytes were sent by then (the server stops reading long before)."""
    length = f"Content-Length: {declared_bytes}" if declared_bytes else "Transfer-Encoding: chunked"
    head = (f"POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\n{length}\r\n\r\n").encode()
    chunk = b"x" * 65536
    if declared_bytes is None:
        chunk = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + (b"" if declared_bytes else b'5\r\n{"a":\r\n'))
        sock.setblocking(False)
        answer = b""
        while sent < 80 * 1024 * 1024 and not answer:
            try:
                answer = sock.recv(65536)
                break
            except BlockingIOError:
                pass
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.005)  # the server stopped reading: its answer is on the way
            except OSError:
                break
        sock.setblocking(True)
        while b"\r\n\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    return answer, sent


@pytest.mark.parametrize("declared_bytes", [80 * 1024 * 1024, None], ids=["declared", "chunked"])
def test_an_80_mb_order_body_is_refused_before_it_is_parsed(
    app: FastAPI, db: Database, declared_bytes: int | None
) -> None:
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["admin"]).secret
    server = ServerThread(app).start()
    try:
        answer, sent = _post_until_answered(server, key, declared_bytes=declared_bytes)
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Declared: refused on the header alone. Chunked: refused at the route's limit (4 x 64 KiB + 16 KiB),
    # give or take what the sockets' buffers held; never the 80 MB.
    assert sent < 8 * 1024 * 1024
    with db.unit_of_work(read_only=True) as session:
        assert session.query(Order).count() == 0


@pytest.mark.parametrize("path", ["/v1/check", "/v1/consume", "/v1/links", "/v1/customers"])
def test_a_declared_length_over_the_limit_is_refused_without_reading(api: TestClient, path: str) -> None:
    body = b'{"host_user_id": "u1", "feature": "' + b"x" * BODY_MAX_BYTES + b'"}'
    answer = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    limit = f"the request body is over this route's {BODY_MAX_BYTES}-byte limit"
    assert answer.json()["error"] == {"code": "payload_too_large", "message": limit}


# --- amounts are whole numbers, never coerced ----------------------------------------------------

NOT_WHOLE_NUMBERS: list[Any] = [True, False, "1", "10", 1000.0, 1.5, "1e3", None]


@pytest.mark.parametrize("value", NOT_WHOLE_NUMBERS, ids=repr)
def test_credits_and_quantities_take_integers_only(api: TestClient, db: Database, value: Any) -> None:
    use = {"host_user_id": "u1", "feature": "scan"}
    requests: dict[str, tuple[str, dict[str, Any]]] = {
        "spend.credits": ("/v1/credits/u1/spend", {"credits": value, "idempotency_key": "s1"}),
        "adjust.credits": ("/v1/credits/u1/adjustments",
                           {"credits": value, "reason": "goodwill", "idempotency_key": "a1"}),
        "consume.quantity": ("/v1/consume", {**use, "quantity": value, "idempotency_key": "c1"}),
        "capture.credits": ("/v1/holds/1/capture", {"credits": value}),
        "checkout.quantity": ("/v1/checkout/sessions", {
            "host_user_id": "u1", "product": "consultation", "quantity": value,
            "success_url": "https://app.example.com/ok", "cancel_url": "https://app.example.com/no"}),
    }
    if value is not None:  # optional fields, where null means "not given"
        requests["check.quantity"] = ("/v1/check", {**use, "quantity": value})
        requests["hold.credits"] = ("/v1/holds", {**use, "credits": value, "idempotency_key": "h1"})
    for name, (path, body) in requests.items():
        answer = api.post(path, json=body)
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["error"]["field"] in ("credits", "quantity"), (name, answer.text)
    with db.unit_of_work(read_only=True) as session:
        assert session.query(LedgerEntry).count() == 0


# --- Stripe ids are checked before any call -------------------------------------------------------

NOT_SESSION_IDS = [".", "..", "%2E", "%2E%2E", "cs_test_a\nb", "cs_test_a/b", "cs_test_a?x=1", "cus_123",
                   "cs_", "cs_test_" + "a" * 300, "cs_test_a b", "cs_test_a%00"]


@pytest.mark.parametrize("session_id", NOT_SESSION_IDS, ids=repr)
def test_a_session_id_that_is_not_one_never_reaches_stripe(api: TestClient, session_id: str) -> None:
    # A 503 would mean coinslot called Stripe (nothing listens there): it must refuse first, as input.
    answer = api.post(f"/v1/checkout/sessions/{quote(session_id, safe='%/?')}/fulfil")
    assert answer.status_code in (404, 422), answer.text
    if answer.status_code == 422:
        assert answer.json()["error"]["field"] == "session_id"


@pytest.mark.parametrize("session_id", [".", "..", "cs_test_a\nb", "cus_123"], ids=repr)
def test_a_customer_returning_with_a_forged_session_id_gets_a_page_not_a_stripe_call(
    app: FastAPI, api: TestClient, session_id: str
) -> None:
    browser, _csrf = signed_in_customer(app, api)
    answer = browser.get("/billing/return", params={"checkout_status": "success", "session_id": session_id},
                         follow_redirects=False)
    assert answer.status_code == 422, answer.text[:300]
    assert "Please check" in answer.text
