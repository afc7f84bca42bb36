"""`coinslot worker`: process Stripe events (several loops side by side; PostgreSQL for several processes)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

from coinslot.cli.common import configure_process, console, load_container, shows_errors
from coinslot.config import Settings
from coinslot.container import start_clock_follower
from coinslot.ledger.sweep import start_expiry_sweep
from coinslot.metrics import serve_metrics
from coinslot.overage.reporter import report_due, start_overage_reporter
from coinslot.topups.flows import start_charger
from coinslot.webhooks.backfill import start_backfill_loop
from coinslot.webhooks.loop import run_worker
from coinslot.webhooks.worker import new_worker_id, process_due

app = typer.Typer()
log = logging.getLogger("coinslot.worker")


@app.command("worker")
@shows_errors
def worker(
    loops: int = typer.Option(1, help="worker loops in this process"),
    once: bool = typer.Option(False, help="process what is due now, then exit"),
) -> None:
    """Claim due Stripe events, apply them, retry failures with backoff; backfill missed events every
    COINSLOT_RECONCILE_INTERVAL_S; write due credit expiries every COINSLOT_EXPIRY_SWEEP_INTERVAL_S; charge
    due auto top-ups; report overage to Stripe's meter as it is used; metrics on COINSLOT_METRICS_PORT. On
    SIGTERM / Ctrl-C: finish the event in hand, hand the rest of the batch back, exit 0."""
    settings = Settings()
    configure_process(settings)
    container = load_container(settings)
    if once:
        total = 0
        while (done := process_due(container, limit=100)) > 0:
            total += done
        reported = 0
        while (sent := report_due(container)) > 0:
            reported += sent
        console.print(f"{total} event(s) processed, {reported} overage report(s) sent")
        return
    if container.settings.is_sqlite and loops > 1:
        console.print("SQLite has one writer at a time: running 1 loop.")
        loops = 1
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping: finishing the event in hand", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stops = []
    if settings.metrics_port is not None:
        stops.append(serve_metrics(container.db, container.clock, port=settings.metrics_port))
    if (stop_backfill := start_backfill_loop(container)) is not None:
        stops.append(stop_backfill)
    if (stop_follower := start_clock_follower(container)) is not None:
        stops.append(stop_follower)
    if (stop_sweep := start_expiry_sweep(container)) is not None:
        stops.append(stop_sweep)
    if (stop_charger := start_charger(container)) is not None:
        stops.append(stop_charger)
    if (stop_reporter := start_overage_reporter(container)) is not None:
        stops.append(stop_reporter)
    threads = [
        threading.Thread(
            target=run_worker,
            args=(container,),
            kwargs={"stop": stop, "worker": new_worker_id()},
            name=f"coinslot-worker-{n}",
        )
        for n in range(loops)
    ]
    for thread in threads:
        thread.start()
    log.info("worker started", extra={"loops": loops, "metrics_port": settings.metrics_port,
                                      "reconcile_interval_s": settings.reconcile_interval_s})
    console.print(f"{loops} worker loop(s) running; Ctrl-C to stop")
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    for stop_part in reversed(stops):
        stop_part()
    container.db.dispose()
    log.info("worker stopped")
