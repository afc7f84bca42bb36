"""POST /v1/check's lane (entitlements/check_lane.py) answers as the route does, and hands it the rest.

The same requests go to two apps on one database: the app as built (the lane answers the requests it
admits) and the same app without the lane (the route answers everything). Status, headers and bytes
must be equal for every user state, feature, quantity and parameters of the hot-check world, on SQLite
and PostgreSQL. Then the lane alone, over a recording downstream app: each request it must not answer
reaches the route with its body unchanged, and the one it answers never reaches it.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.db import Database
from coinslot.entitlements.check_lane import CheckLane
from tests.integration.ledger_support import DAY, NOW
from tests.integration.test_entitlement_stories import EXAMPLES
from tests.integration.test_hot_check import _quantipack_world

_SKIPPED_HEADERS = {"x-request-id"}  # made per request


def _settings(db: Database) -> Settings:
    return Settings(database_url=db.url, catalog_path=EXAMPLES / "quantipackai.toml",  # type: ignore[call-arg]
                    stripe_secret_key=None, _env_file=None)


def _client(db: Database, secret: str, *, now: Any, lane: bool) -> TestClient:
    app = create_app(_settings(db), db=db, clock=FixedClock(now), configure_logs=False)
    if not lane:  # before the first request builds the middleware stack
        app.user_middleware = [entry for entry in app.user_middleware
                               if not (isinstance(entry.cls, type) and issubclass(entry.cls, CheckLane))]
    # The key verified for the whole test (the cache's second is wall time): every request the lane
    # admits is then the lane's, not a route's verification when a second has passed.
    with db.unit_of_work(read_only=True) as session:
        verified = apikeys.verify_key(session, secret=secret, now=now)
    app.state.container.key_cache.put(secret, verified, ttl_s=3600)
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def _seen(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(name, value) for name, value in response.headers.multi_items()
               if name not in _SKIPPED_HEADERS]
    return response.status_code, headers, response.content


@pytest.mark.parametrize("days", [0, 10, 35])
def test_the_lane_answers_every_state_as_the_route_does_byte_for_byte(db: Database, days: int) -> None:
    users = _quantipack_world(db)
    with db.unit_of_work() as session:
        secret = apikeys.create_key(session, name="host", now=NOW, scopes=["entitlements"]).secret
    now = NOW + days * DAY
    with_lane = _client(db, secret, now=now, lane=True)
    route_only = _client(db, secret, now=now, lane=False)
    bodies: list[dict[str, Any]] = [
        {"host_user_id": user, "feature": feature, **extra}
        for user in users
        for feature in ("suite_analyzer", "spec_generator", "pdp_analyzer", "no_such_feature")
        for extra in ({}, {"quantity": 3}, {"params": {"complexity": "high"}})
    ]
    bodies.append({"user_id": "starter", "feature": "spec_generator"})  # the deprecated name
    bodies.append({"host_user_id": "ünïcode-user", "feature": "spec_generator"})
    allowed_or_not = 0
    for body in bodies:
        seen = _seen(with_lane.post("/v1/check", json=body))
        assert seen == _seen(route_only.post("/v1/check", json=body)), body
        allowed_or_not += seen[0] == 200
    assert 0 < allowed_or_not < len(bodies)  # an unknown feature is the route's 4xx
    lane = _lane_of(with_lane)  # every 200 was the lane's
    assert lane is not None
    assert lane.answered == allowed_or_not


def _lane_of(client: TestClient) -> CountingLane | None:
    app: Any = client.app
    stack = app.middleware_stack
    while stack is not None:
        if isinstance(stack, CheckLane):
            return stack if isinstance(stack, CountingLane) else None
        stack = getattr(stack, "app", None)
    return None


class CountingLane(CheckLane):
    """The lane, counting the requests it answered itself."""

    answered = 0

    async def _answer(self, body: bytes) -> bytes | None:
        answer = await super()._answer(body)
        if answer is not None:
            self.answered += 1
        return answer


@pytest.fixture(autouse=True)
def _counting_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """`create_app` installs the counting twin (same behaviour, plus a count)."""
    monkeypatch.setattr("coinslot.app.CheckLane", CountingLane)


class _Route:
    """A downstream app that records what reached it and answers 599."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _container(db: Database) -> tuple[Container, str, str]:
    with db.unit_of_work() as session:
        entitled = apikeys.create_key(session, name="host", now=NOW, scopes=["entitlements"]).secret
        other = apikeys.create_key(session, name="reader", now=NOW, scopes=["read"]).secret
    container = Container(settings=_settings(db), db=db, clock=FixedClock(NOW))
    for secret in (entitled, other):
        with db.unit_of_work(read_only=True) as session:
            container.key_cache.put(secret, apikeys.verify_key(session, secret=secret, now=NOW), ttl_s=60)
    return container, entitled, other


def _call(lane: CheckLane, *, method: str = "POST", path: str = "/v1/check", body: bytes = b"",
          headers: dict[str, str] | None = None, chunks: int = 1) -> int:
    raw = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    scope: Scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": raw,
                    "query_string": b""}
    size = max(1, -(-len(body) // chunks))
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    messages: list[Message] = [{"type": "http.request", "body": part, "more_body": n < len(parts) - 1}
                               for n, part in enumerate(parts)]
    status: list[int] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    anyio.run(lane, scope, receive, send)
    return status[0]


def test_the_lane_hands_the_route_every_request_it_does_not_answer_with_its_body(db: Database) -> None:
    _quantipack_world(db)
    container, entitled, other = _container(db)
    route = _Route()
    lane = CheckLane(route, container=container)
    good = json.dumps({"host_user_id": "starter", "feature": "spec_generator"}).encode()

    def headers(secret: str | None = entitled, body: bytes = good, **more: str) -> dict[str, str]:
        found = {"Content-Type": "application/json", "Content-Length": str(len(body)), **more}
        if secret is not None:
            found["Authorization"] = f"Bearer {secret}"
        return found

    assert _call(lane, body=good, headers=headers()) == 200
    assert _call(lane, body=good, headers=headers(), chunks=3) == 200  # a body in several messages
    assert route.bodies == []
    refused: list[tuple[str, dict[str, Any]]] = [
        ("no key", {"headers": headers(secret=None)}),
        ("a key this process has not verified", {"headers": headers(secret="cs_unknown")}),
        ("a key without the entitlements scope", {"headers": headers(secret=other)}),
        ("another content type", {"headers": headers(**{"Content-Type": "text/plain"})}),
        ("another path", {"path": "/v1/consume", "headers": headers()}),
        ("another method", {"method": "PUT", "headers": headers()}),
    ]
    bad_bodies = [b"{not json", b"[]", b"x" * 9000,
                  json.dumps({"host_user_id": "starter", "feature": "x", "quantity": 0}).encode(),
                  json.dumps({"feature": "spec_generator"}).encode()]
    refused += [(f"body {body[:20]!r}", {"body": body, "headers": headers(body=body)}) for body in bad_bodies]
    for reason, request in refused:
        request.setdefault("body", good)
        before = len(route.bodies)
        assert _call(lane, **request) == 599, reason
        assert route.bodies[before:] == [request["body"]], reason


def test_a_check_the_lane_cannot_answer_is_the_routes_answer(db: Database) -> None:
    """A failure inside the lane (here: a database that cannot be reached) is not the lane's answer: the
    request goes to the route, which gives its own (a 503 there)."""
    _quantipack_world(db)
    container, entitled, _ = _container(db)
    unreachable = ("sqlite:////nonexistent-coinslot-dir/coinslot.db" if db.is_sqlite
                   else "postgresql+psycopg://coinslot@127.0.0.1:1/coinslot")
    container.db = Database(unreachable, connect_timeout_s=1.0)
    route = _Route()
    good = json.dumps({"host_user_id": "starter", "feature": "spec_generator"}).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(good)),
               "Authorization": f"Bearer {entitled}"}
    assert _call(CheckLane(route, container=container), body=good, headers=headers) == 599
    assert route.bodies == [good]
    container.db.dispose()
