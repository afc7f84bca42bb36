"""API keys that can be trusted (issue 13): each does what its scopes say and nothing else, an expired or
revoked key is refused by every process from the next request on (writes included), a key's last use is
known, and keys made before scopes keep working as legacy keys. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.cli import app as cli
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.models import ApiKey, LedgerEntry

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
CONSUME = {"host_user_id": "u1", "feature": "scan"}  # free to use on Skinova's free plan: no credits needed


def make_app(url: str, clock: FixedClock | None = None, *, key_cache_s: float = 0.0) -> FastAPI:
    """One coinslot process: its own container and database engine (nothing shared but the database).
    Keys read on every use unless `key_cache_s` says otherwise (the default of a deployment is 1 s)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, catalog_path=CATALOGS / "skinova.toml", stripe_secret_key=None,
        session_secret="api-keys-session-secret-api-keys-session", api_key_cache_s=key_cache_s,
    )
    return create_app(settings, db=Database(url), clock=clock or FixedClock(NOW), configure_logs=False)


def new_key(db: Database, *scopes: str, expires_in_days: int | None = None) -> apikeys.CreatedKey:
    with db.unit_of_work() as session:
        return apikeys.create_key(session, name="backend", scopes=scopes, now=NOW,
                                  expires_in_days=expires_in_days)


def consume(app: FastAPI, secret: str, key: str) -> int:
    answer = TestClient(app).post("/v1/consume", json={**CONSUME, "idempotency_key": key},
                                  headers={"Authorization": f"Bearer {secret}"})
    return answer.status_code


def test_a_key_does_what_its_scopes_say_and_nothing_else(db: Database) -> None:
    app = make_app(db.url)
    backend = TestClient(app, headers={"Authorization": f"Bearer {new_key(db, 'entitlements').secret}"})
    assert backend.post("/v1/check", json=CONSUME).status_code == 200
    refused = backend.post("/v1/credits/u1/adjustments",
                           json={"credits": 1000, "reason": "free money", "idempotency_key": "a1"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    assert refused.json()["error"]["message"] == (
        "this API key may not call POST /v1/credits/{host_user_id}/adjustments: it needs the 'admin' scope "
        "(everything, and adjust credits); create a key with `coinslot keys create --scope admin`")
    assert backend.get("/v1/customers/u1").status_code == 403  # reading a customer needs `read`
    assert backend.post("/v1/links", json={"host_user_id": "u1"}).status_code == 403  # pages need `links`
    with db.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.kind == "adjustment")) == 0


def test_read_on_every_use_a_revoked_key_is_refused_at_once_by_every_process_writes_included(
    database_url: str,
) -> None:
    first, second = make_app(database_url), make_app(database_url)
    operator = Database(database_url)
    key = new_key(operator, "entitlements")
    assert consume(first, key.secret, "before-1") == 200
    assert consume(second, key.secret, "before-2") == 200  # both processes have seen the key

    with operator.unit_of_work() as session:
        apikeys.revoke_key(session, key_id=key.id, now=NOW)

    assert consume(first, key.secret, "after-1") == 401
    assert consume(second, key.secret, "after-2") == 401
    with operator.unit_of_work(read_only=True) as session:
        spent = session.scalars(select(LedgerEntry.entry_id).order_by(LedgerEntry.id)).all()
    assert [entry for entry in spent if "after" in entry] == []
    operator.dispose()


def test_with_the_default_one_second_cache_a_revoked_key_is_refused_within_the_second(
    database_url: str,
) -> None:
    first, second = make_app(database_url, key_cache_s=1.0), make_app(database_url, key_cache_s=1.0)
    operator = Database(database_url)
    key = new_key(operator, "entitlements")
    assert consume(first, key.secret, "before-1") == 200
    assert consume(second, key.secret, "before-2") == 200
    with operator.unit_of_work() as session:
        apikeys.revoke_key(session, key_id=key.id, now=NOW)
    revoked_at_s = time.monotonic()
    time.sleep(1.05)  # the cache's whole life, measured from after the revocation committed
    assert time.monotonic() - revoked_at_s > 1.0
    assert consume(first, key.secret, "after-1") == 401
    assert consume(second, key.secret, "after-2") == 401
    operator.dispose()


def test_a_key_past_its_expiry_is_refused_with_the_reason(db: Database) -> None:
    key = new_key(db, "entitlements", expires_in_days=30)
    assert key.expires_at == NOW + dt.timedelta(days=30)
    assert consume(make_app(db.url, FixedClock(NOW + dt.timedelta(days=29))), key.secret, "k1") == 200
    late = TestClient(make_app(db.url, FixedClock(NOW + dt.timedelta(days=30))))
    answer = late.post("/v1/check", json=CONSUME, headers={"Authorization": f"Bearer {key.secret}"})
    assert answer.status_code == 401
    assert answer.json()["error"] == {"code": "key_expired", "message": "API key expired at 2026-12-01 12:00 "
                                      "UTC: create a new one with `coinslot keys create`"}
    # Trusted from the cache a moment ago or not, a key is refused from its expiry on.
    clock = FixedClock(NOW + dt.timedelta(days=30) - dt.timedelta(seconds=1))
    cached = make_app(db.url, clock, key_cache_s=1.0)
    assert consume(cached, key.secret, "k2") == 200
    clock.advance(dt.timedelta(seconds=1))
    assert consume(cached, key.secret, "k3") == 401


def test_the_last_use_is_recorded_to_the_minute_with_one_write_a_minute(db: Database) -> None:
    clock = FixedClock(NOW)
    app = make_app(db.url, clock)
    key = new_key(db, "entitlements")

    def last_used() -> dt.datetime | None:
        with db.unit_of_work(read_only=True) as session:
            return session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key.id))

    assert last_used() is None
    assert consume(app, key.secret, "k1") == 200
    assert last_used() == NOW
    clock.advance(dt.timedelta(seconds=59))
    assert consume(app, key.secret, "k2") == 200
    assert last_used() == NOW  # within the minute: not written again
    clock.advance(dt.timedelta(seconds=1))
    assert consume(app, key.secret, "k3") == 200
    assert last_used() == NOW + dt.timedelta(minutes=1)


def test_a_key_made_before_scopes_keeps_every_scope_and_is_listed_as_legacy(db: Database) -> None:
    key = new_key(db, "read")
    with db.unit_of_work() as session:  # what revision 0003 leaves on a key of 0.1
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(scopes=None))
    client = TestClient(make_app(db.url), headers={"Authorization": f"Bearer {key.secret}"})
    assert client.post("/v1/consume", json={**CONSUME, "idempotency_key": "c1"}).status_code == 200
    assert client.post("/v1/credits/u1/adjustments",
                       json={"credits": 5, "reason": "legacy", "idempotency_key": "a1"}).status_code == 200
    listed = CliRunner().invoke(cli, ["keys", "list", "--json"], env={"COINSLOT_DATABASE_URL": db.url})
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert (row["scopes"], row["legacy"]) == (None, True)
    table = CliRunner().invoke(cli, ["keys", "list"], env={"COINSLOT_DATABASE_URL": db.url})
    assert "all (legacy" in table.output


def test_keys_create_takes_scopes_and_an_expiry_and_refuses_an_unknown_scope(db: Database) -> None:
    env = {"COINSLOT_DATABASE_URL": db.url}
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "web", "--scope", "entitlements,read", "--scope", "links",
                               "--expires-in-days", "90", "--json"], env=env)
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert created["scopes"] == ["entitlements", "links", "read"]
    assert created["secret"].startswith("cs_")
    assert created["expires_at"] is not None
    unknown = runner.invoke(cli, ["keys", "create", "web", "--scope", "everything"], env=env)
    assert unknown.exit_code == 2
    choices = "read, entitlements, billing, links, admin"
    assert f"unknown scope 'everything'; choose from: {choices}" in unknown.output
    none = runner.invoke(cli, ["keys", "create", "web"], env=env)
    assert none.exit_code == 2
    assert "a key needs at least one scope" in none.output
    listed = json.loads(runner.invoke(cli, ["keys", "list", "--json"], env=env).stdout)
    assert [(row["name"], row["scopes"], row["legacy"]) for row in listed] == [
        ("web", ["entitlements", "links", "read"], False)]


@pytest.mark.parametrize("days", ["0", "-1", "100000"])
def test_an_expiry_out_of_range_is_refused(db: Database, days: str) -> None:
    answer = CliRunner().invoke(cli, ["keys", "create", "web", "--scope", "read", "--expires-in-days", days],
                                env={"COINSLOT_DATABASE_URL": db.url})
    assert answer.exit_code == 2
    assert "--expires-in-days must be between 1 and 3650" in answer.output
