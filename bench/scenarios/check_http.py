"""The entitlement check over HTTP at 1, 16 and 64 concurrent connections, against a bare FastAPI floor.

coinslot runs as it is deployed (uvicorn, one worker, SQLite in WAL mode, an
API key, 100 customers on the Pro plan with credits); the floor is a FastAPI
app parsing the same JSON body and answering a fixed decision, served the
same way. The load comes from a second process (bench.load).
"""

from __future__ import annotations

import datetime as dt
import json

from bench.context import Context
from bench.databases import fresh_database
from bench.harness import NotAvailable, Row, ScenarioResult, timed
from bench.load import build_request, run_load
from bench.seed import add_customers
from bench.servers import REPO, ServerProcess, serve_app
from bench.targets import has_route

NAME = "check_http"
TITLE = "entitlement check over HTTP (SQLite)"
CONCURRENCY = (1, 16, 64)
CUSTOMERS = 100
CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"


def coinslot_env(database_url: str) -> dict[str, str]:
    return {
        "COINSLOT_DATABASE_URL": database_url,
        "COINSLOT_CATALOG_PATH": str(CATALOG),
        "COINSLOT_STRIPE_SECRET_KEY": "sk_test_coinslot_bench",
        "COINSLOT_STRIPE_WEBHOOK_SECRETS": "whsec_coinslot_bench",
        "COINSLOT_LOG_LEVEL": "WARNING",
        "COINSLOT_LOG_JSON": "false",
    }


def create_api_key(database_url: str) -> str:
    from coinslot.apikeys.service import create_key
    from coinslot.db import Database

    database = Database(database_url)
    try:
        with database.unit_of_work() as session:
            return create_key(session, name="bench", now=dt.datetime.now(dt.UTC)).secret
    finally:
        database.dispose()


def _requests(port: int, api_key: str) -> list[bytes]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"}
    return [build_request("POST", "/v1/check", port=port, headers=headers,
                          body=json.dumps({"user_id": f"user-{i}", "feature": "export"}).encode())
            for i in range(1, CUSTOMERS + 1)]


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        try:
            has_route("POST", "/v1/check")
        except NotAvailable as exc:
            result.na_reason = str(exc)
            return result
        with fresh_database("sqlite", postgres=None, workdir=ctx.workdir) as db:
            add_customers(db.url, CUSTOMERS)
            api_key = create_api_key(db.url)
            with serve_app("bench.apps:coinslot_app", log_dir=ctx.workdir, env=coinslot_env(db.url)) as app, \
                    serve_app("bench.apps:floor_app", log_dir=ctx.workdir) as floor:
                for concurrency in CONCURRENCY:
                    result.rows.append(_measure(app, floor, api_key, concurrency, ctx))
    return result


def _measure(app: ServerProcess, floor: ServerProcess, api_key: str, concurrency: int, ctx: Context) -> Row:
    sizes = ctx.sizes
    floor_load = run_load(floor.port, _requests(floor.port, api_key), concurrency=concurrency,
                          count=sizes.http_count, duration_s=sizes.http_duration_s, warmup=sizes.http_warmup)
    mine = run_load(app.port, _requests(app.port, api_key), concurrency=concurrency, count=sizes.http_count,
                    duration_s=sizes.http_duration_s, warmup=sizes.http_warmup)
    row = Row(f"c{concurrency}", f"{concurrency} concurrent", mine.sample, floor_label="bare FastAPI",
              floor=floor_load.sample, target=">= 0.5x floor",
              target_check=lambda r: r.ratio is not None and r.ratio >= 0.5)
    if mine.sample.errors:
        row.note = f"non-2xx answers: {mine.statuses}"
    return row
