"""Webhook receive at 64 concurrent deliveries: verify the signature, store the event, answer 2xx.

Each delivery is a distinct, freshly signed `invoice.paid` event of about
the size Stripe sends (a full invoice object), so every request inserts a
row. coinslot runs with the recommended production setting, what `coinslot serve` starts by default:
one uvicorn process per CPU on PostgreSQL, one on SQLite (its writers share one file lock, and
across processes they poll for it); the floor, the bare FastAPI app reading the same body and
answering, runs in as many processes as the row it is the floor of.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from sqlalchemy import func, select

from bench.context import Context
from bench.harness import NotAvailable, Row, ScenarioResult, timed
from bench.load import build_request, run_load
from bench.targets import has_route

NAME = "webhook_receive"
TITLE = "webhook receive (verify + store + 2xx), 64 concurrent"
CONCURRENCY = 64
SECRET = "whsec_coinslot_bench"
_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _invoice(n: int, now: int) -> dict[str, Any]:
    line = {"id": f"il_bench{n}", "object": "line_item", "amount": 1499, "currency": "usd",
            "description": "1 × Pro (at $14.99 / month)", "period": {"start": now, "end": now + 2_678_400},
            "pricing": {"price_details": {"price": "price_bench_pro", "product": "prod_bench_pro"}},
            "quantity": 1, "metadata": {}}
    return {"id": f"in_bench{n}", "object": "invoice", "amount_due": 1499, "amount_paid": 1499,
            "amount_remaining": 0, "attempt_count": 1, "attempted": True,
            "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically", "created": now, "currency": "usd",
            "customer": f"cus_bench{n % 500}", "customer_email": f"user-{n % 500}@example.com",
            "hosted_invoice_url": f"https://invoice.stripe.com/i/bench{n}", "livemode": False,
            "lines": {"object": "list", "data": [line], "has_more": False,
                      "url": f"/v1/invoices/in_bench{n}/lines"},
            "metadata": {}, "number": f"BENCH-{n:06d}", "paid": True, "period_start": now,
            "period_end": now + 2_678_400, "status": "paid", "subtotal": 1499, "total": 1499,
            "parent": {"type": "subscription_details",
                       "subscription_details": {"subscription": f"sub_bench{n % 500}", "metadata": {}}},
            "status_transitions": {"finalized_at": now, "paid_at": now}}


def signed_deliveries(port: int, count: int, *, run: str) -> list[bytes]:
    """`count` distinct signed deliveries, signed now (Stripe's tolerance is 5 minutes)."""
    now = int(time.time())
    requests = []
    for n in range(count):
        event = {"id": f"evt_bench_{run}_{n}", "object": "event", "api_version": "2026-10-28.endive",
                 "created": now, "type": "invoice.paid", "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "data": {"object": _invoice(n, now)}}
        body = json.dumps(event).encode()
        signature = hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
        requests.append(build_request("POST", "/webhooks/stripe", port=port, body=body, headers={
            "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={now},v1={signature}",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}))
    return requests


def _stored(url: str) -> int:
    from coinslot.db import Database
    from coinslot.models import WebhookEvent

    database = Database(url)
    try:
        with database.unit_of_work(read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)
    finally:
        database.dispose()


def _processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


def _p99_under_50_ms(row: Row) -> bool:
    return row.sample is not None and row.sample.p99_ns < 50_000_000


def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE)
    with timed(result):
        try:
            has_route("POST", "/webhooks/stripe")
        except NotAvailable as exc:
            result.na_reason = str(exc)
            return result
        sizes = ctx.sizes
        total = sizes.webhook_count + CONCURRENCY  # the warm-up sends one per connection
        # Every server boots side by side (each is seconds of imports), then they are measured in turn.
        workers = {kind: ctx.recommended_workers(kind) for kind in ctx.database_kinds}
        apps = {kind: ctx.coinslot(kind, workers[kind]) for kind in ctx.database_kinds}
        for count in set(workers.values()):
            ctx.launch_floor(count)
        for kind, (db, app) in apps.items():
            floor = ctx.floor(workers[kind])
            floor_load = run_load(floor.port, signed_deliveries(floor.port, total, run="floor"),
                                  concurrency=CONCURRENCY, count=sizes.webhook_count,
                                  duration_s=sizes.http_duration_s, warmup=CONCURRENCY)
            app.wait_ready()
            load = run_load(app.port, signed_deliveries(app.port, total, run=uuid.uuid4().hex[:8]),
                            concurrency=CONCURRENCY, count=sizes.webhook_count,
                            duration_s=sizes.http_duration_s, warmup=CONCURRENCY)
            stored = _stored(db.url)
            answered = sum(n for s, n in load.statuses.items() if s.startswith("2")) + CONCURRENCY
            result.facts[f"{kind}: stored / answered 2xx"] = f"{stored} / {answered}"
            result.rows.append(Row(kind, _NAMES[kind], load.sample, primary="p99",
                                   floor_label="bare FastAPI", floor=floor_load.sample, unit="events/s",
                                   target="p99 < 50 ms", target_check=_p99_under_50_ms,
                                   note=f"{_processes(workers[kind])} each; answers: {load.statuses}"))
        if ctx.postgres is None:
            result.rows.append(Row("postgresql", "PostgreSQL", None, na_reason=ctx.postgres_reason))
    return result
