"""`coinslot worker` as a real process: SIGTERM in the middle of a batch stops claiming, hands back what
it has not applied, and exits 0; what it handed back is applied once by the next worker."""

from __future__ import annotations

import gzip
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from sqlalchemy import select

from coinslot.models import WebhookEvent
from tests.e2e.billing import buy_credits, cli_env, ledger, push_catalog
from tests.support.processes import Process, clean_environment, wait_until
from tests.support.stack import Stack


def packs_events(stack: Stack) -> list[WebhookEvent]:
    with stack.container.db.unit_of_work(read_only=True) as session:
        return list(session.scalars(select(WebhookEvent).where(
            WebhookEvent.type == "checkout.session.completed").order_by(WebhookEvent.id)))


def test_sigterm_mid_batch_releases_what_the_worker_holds_and_exits_0(stack: Stack, tmp_path: Path) -> None:
    push_catalog(stack)
    stack.settle()
    # Each of the worker's Stripe reads of a Checkout Session takes 2 s: the batch is in flight a while.
    stack.sim.faults.configure({"api": [{"status": None, "path_prefix": "/v1/checkout/sessions",
                                         "method": "GET", "delay_ms": 2000}]})
    sessions = [buy_credits(stack, f"term_{n}", 25) for n in range(3)]
    stack.sim.dispatcher.flush()
    assert len(packs_events(stack)) == 3
    environment = clean_environment({**cli_env(stack), "COINSLOT_RECONCILE_INTERVAL_S": "0",
                                     "COINSLOT_WORKER_POLL_INTERVAL_S": "0.1", "COINSLOT_LOG_JSON": "true"})
    worker = Process("worker", ["coinslot", "worker"], environment, tmp_path / "worker.log").start()
    try:
        wait_until("the worker holding the batch",
                   lambda: {event.status for event in packs_events(stack)} == {"processing"},
                   processes=[worker])
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0, worker.output()
    finally:
        worker.stop()
    events = packs_events(stack)
    assert all(event.status in ("processed", "received") for event in events), [e.status for e in events]
    released = [event for event in events if event.status == "received"]
    assert all(event.locked_by is None and event.attempts == 0 for event in released)
    if released:
        assert any(line.get("message") == "worker stopping: released the rest of its batch"
                   for line in worker.json_lines())
    stack.sim.faults.clear()
    stack.settle()  # the next worker applies what was handed back
    for n, session_id in enumerate(sessions):
        assert ledger(stack, f"term_{n}") == [(f"checkout:{session_id}", "purchase", 25)]


class _SentryIntake(BaseHTTPRequestHandler):
    """A stand-in for Sentry's ingestion endpoint: keeps what the SDK posts."""

    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: object) -> None:
        return


def test_a_worker_reports_its_errors_to_sentry_when_a_dsn_is_set(tmp_path: Path) -> None:
    intake = ThreadingHTTPServer(("127.0.0.1", 0), _SentryIntake)
    threading.Thread(target=intake.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{intake.server_address[1]}/42"
    # A database with no schema: every claim fails, and the worker logs it as an error and goes on.
    environment = clean_environment({"COINSLOT_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                                     "COINSLOT_SENTRY_DSN": dsn, "COINSLOT_RECONCILE_INTERVAL_S": "0"})
    worker = Process("worker", ["coinslot", "worker"], environment, tmp_path / "worker.log").start()
    try:
        wait_until("an event at Sentry", lambda: any(path == "/api/42/envelope/" for path, _, _ in
                                                      _SentryIntake.received), processes=[worker])
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0, worker.output()
    finally:
        worker.stop()
        intake.shutdown()
    bodies = [body for path, _, body in _SentryIntake.received if path == "/api/42/envelope/"]
    assert any(b'"formatted":"webhook worker ' in body and b"loop failed; retrying" in body
               and b"no such table" in body for body in bodies)
    assert all(b"publickey" in body for body in bodies)  # the DSN's key, in each envelope's header
