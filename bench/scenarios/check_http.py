"""The entitlement check over HTTP at 1, 16 and 64 concurrent connections, against a bare FastAPI floor.

coinslot runs as it is deployed (uvicorn with one worker process per CPU, as `coinslot serve`
starts on PostgreSQL, here on SQLite in WAL mode (`serve --workers N`), an API key, 100 customers
(10 with --quick) on the Pro plan with credits); the floor is a FastAPI app parsing the same JSON
body and answering a fixed decision, served the same way (as many processes) through the same kind
of route as coinslot's check on SQLite: `async def`, on the event loop (entitlements/api.py and
check_lane.py say why). The sync `def` twin's rate, a route in the threadpool, is in the row's note.
The load comes from a second process (bench.load).
"""

from __future__ import annotations

import datetime as dt
import json

from bench.context import Context
from bench.harness import NotAvailable, Row, ScenarioResult, timed
from bench.load import build_request, run_load
from bench.seed import add_customers
from bench.servers import ServerProcess
from bench.targets import has_route

NAME = "check_http"
TITLE = "entitlement check over HTTP (SQLite)"
CONCURRENCY = (1, 16, 64)


def create_api_key(database_url: str) -> str:
    from coinslot.apikeys.service import create_key
    from coinslot.db import Database

    database = Database(database_url)
    try:
        with database.unit_of_work() as session:
            return create_key(session, name="bench", now=dt.datetime.now(dt.UTC),
                              scopes=["entitlements"]).secret
    finally:
        database.dispose()


def _requests(port: int, api_key: str, customers: int, path: str = "/v1/check") -> list[bytes]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"}
    return [build_request("POST", path, port=port, headers=headers,
                          body=json.dumps({"user_id": f"user-{i}", "feature": "export"}).encode())
            for i in range(1, customers + 1)]


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        try:
            has_route("POST", "/v1/check")
        except NotAvailable as exc:
            result.na_reason = str(exc)
            return result
        # Booting the server (imports, ~2-3 s) overlaps seeding; it reads nothing before a request.
        db, app = ctx.coinslot("sqlite")
        add_customers(db.url, ctx.sizes.check_customers)
        api_key = create_api_key(db.url)
        app.wait_ready()
        floor = ctx.floor()
        for concurrency in CONCURRENCY:
            result.rows.append(_measure(app, floor, api_key, concurrency, ctx))
    return result


def _measure(app: ServerProcess, floor: ServerProcess, api_key: str, concurrency: int, ctx: Context) -> Row:
    sizes = ctx.sizes
    floor_requests = _requests(floor.port, api_key, sizes.check_customers, "/v1/check-async")
    floor_load = run_load(floor.port, floor_requests, concurrency=concurrency, count=sizes.http_count,
                          duration_s=sizes.http_duration_s, warmup=sizes.http_warmup)
    mine = run_load(app.port, _requests(app.port, api_key, sizes.check_customers), concurrency=concurrency,
                    count=sizes.http_count, duration_s=sizes.http_duration_s, warmup=sizes.http_warmup)
    sync_floor = run_load(floor.port, _requests(floor.port, api_key, sizes.check_customers),
                          concurrency=concurrency, count=sizes.http_count, duration_s=sizes.http_duration_s,
                          warmup=sizes.http_warmup)
    row = Row(f"c{concurrency}", f"{concurrency} concurrent", mine.sample,
              floor_label="bare FastAPI, async def", floor=floor_load.sample, target=">= 0.5x floor",
              target_check=lambda r: r.ratio is not None and r.ratio >= 0.5)
    row.note = (f"{ctx.web_workers} processes each; bare FastAPI sync def (threadpool): "
                f"{sync_floor.sample.rate_per_s:,} req/s")
    if mine.sample.errors:
        row.note += f"; non-2xx answers: {mine.statuses}"
    return row
