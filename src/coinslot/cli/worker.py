"""`coinslot worker`: process Stripe events (several loops side by side; PostgreSQL for several processes)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from coinslot.cli.common import console, load_container, shows_errors
from coinslot.webhooks.worker import new_worker_id, process_due, run_worker

app = typer.Typer()


@app.command("worker")
@shows_errors
def worker(
    loops: int = typer.Option(1, help="worker loops in this process"),
    once: bool = typer.Option(False, help="process what is due now, then exit"),
) -> None:
    """Claim due Stripe events, apply them, retry failures with backoff; stops cleanly on Ctrl-C / SIGTERM."""
    container = load_container()
    if once:
        total = 0
        while (done := process_due(container, limit=100)) > 0:
            total += done
        console.print(f"{total} event(s) processed")
        return
    if container.settings.is_sqlite and loops > 1:
        console.print("SQLite has one writer at a time: running 1 loop.")
        loops = 1
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
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
    console.print(f"{loops} worker loop(s) running; Ctrl-C to stop")
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
