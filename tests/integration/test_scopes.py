"""Every route of the API, called with a key of each scope and with none, answers as docs/security.md's table
says: allowed, 403 `insufficient_scope`, or 401. The table lists every operation of the OpenAPI document,
so a new route cannot ship without its scope written down (issue 13)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coinslot.apikeys import service as apikeys
from coinslot.apikeys.scopes import SCOPES
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/v1/[^`]*)` \| `(\w+)` \|(.*)\|\s*$")
# Values that fit each path parameter's type and shape, so that the scope is the only thing on trial.
PATH_VALUES = {"host_user_id": "u1", "hold_id": "1", "order_id": "ord_1", "session_id": "cs_test_1",
               "event_id": "evt_1", "addon": "extra_tokens"}


def documented_table() -> tuple[list[str], dict[tuple[str, str], tuple[str, dict[str, str]]]]:
    """docs/security.md's table: its columns, and for each (method, path) its operation and cells."""
    lines = (REPO / "docs" / "security.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| route | operation |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")][2:]
    table = {}
    for line in lines:
        found = ROW.match(line)
        if found:
            cells = [cell.strip() for cell in found.group(4).split("|")]
            table[(found.group(1), found.group(2))] = (found.group(3), dict(zip(columns, cells, strict=True)))
    return columns, table


@pytest.fixture
def client(db: Database) -> TestClient:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, catalog_path=REPO / "examples" / "catalogs" / "patch_hive.toml",
        stripe_secret_key=None,  # a route that gets past its scope and reaches for Stripe answers 503 at once
        session_secret="scopes-session-secret-scopes-session-secret",
    )
    return TestClient(create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False))


def test_the_table_names_every_operation_and_every_scope(client: TestClient) -> None:
    columns, table = documented_table()
    assert columns == [*SCOPES, "no key"]
    document = client.get("/openapi.json").json()
    operations = {(method.upper(), path): op["operationId"]
                  for path, ops in document["paths"].items() for method, op in ops.items()}
    assert {route: operation for route, (operation, _cells) in table.items()} == operations


def test_every_route_with_every_scope_answers_as_the_table_says(client: TestClient, db: Database) -> None:
    columns, table = documented_table()
    keys = {}
    with db.unit_of_work() as session:
        for scope in SCOPES:
            keys[scope] = apikeys.create_key(session, name=scope, scopes=[scope], now=NOW).secret
    observed: dict[tuple[str, str], dict[str, str]] = {}
    for (method, path), (_operation, _cells) in table.items():
        url = re.sub(r"\{(\w+)\}", lambda name: PATH_VALUES[name.group(1)], path)
        row = {}
        for column in columns:
            headers = {"Authorization": f"Bearer {keys[column]}"} if column in keys else {}
            # An empty object: a route that lets the key through answers whatever it answers to that
            # (a 422 for a missing field, a 404, a 503 without Stripe), never a 401 or a 403.
            answer = client.request(method, url, headers=headers, json={} if method != "GET" else None)
            error = answer.json().get("error", {}) if answer.status_code >= 400 else {}
            if answer.status_code == 403:
                assert error["code"] == "insufficient_scope", (method, path, column, answer.text)
                row[column] = "403"
            elif answer.status_code == 401:
                row[column] = "401"
            else:
                assert answer.status_code != 500, (method, path, column, answer.text)
                row[column] = "✓"
        observed[(method, path)] = row
    assert observed == {route: cells for route, (_operation, cells) in table.items()}
