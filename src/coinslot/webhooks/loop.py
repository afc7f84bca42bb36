"""The long-running worker: batches back to back, a heartbeat renewing the leases, stop on request.

`coinslot worker` runs `run_worker` in one thread per loop; the SQLite demo runs one inside `serve`
(`start_in_process_worker`). One batch is `worker.process_due`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.queue import repository as queue
from coinslot.queue.kinds import STRIPE_EVENTS
from coinslot.queue.runner import Heartbeat, new_worker_id, run_loop, start_loop_thread
from coinslot.webhooks.worker import lease_until, process_due

__all__ = ["renew_leases", "run_worker", "start_in_process_worker"]

log = logging.getLogger("coinslot.webhooks")


def renew_leases(container: Container, *, worker: str) -> int:
    """The heartbeat of a running worker: push its leases one `worker_lease_s` ahead."""
    with container.db.unit_of_work() as session:
        return queue.renew(session, STRIPE_EVENTS, worker=worker, lease_until=lease_until(container))


def run_worker(
    container: Container,
    *,
    stop: threading.Event,
    worker: str | None = None,
    limit: int = 50,
    load_catalog: Callable[[], Catalog] | None = None,
) -> None:
    """Loop until `stop` is set: process batches back to back, sleep the poll interval when idle.

    A heartbeat thread renews this loop's leases every third of `worker_lease_s` meanwhile.
    """
    worker = worker or new_worker_id()
    beat_s = container.settings.worker_lease_s / 3
    with Heartbeat(f"coinslot-heartbeat-{worker}", lambda: renew_leases(container, worker=worker),
                   interval_s=beat_s):
        def batch() -> int:
            return process_due(container, limit=limit, worker=worker, load_catalog=load_catalog, stop=stop)

        run_loop(f"webhook worker {worker}", batch, stop=stop,
                 poll_s=container.settings.worker_poll_interval_s)


def start_in_process_worker(container: Container) -> Callable[[], None] | None:
    """For the SQLite demo (`run_worker_in_process`): one worker thread beside the API."""
    if not container.settings.run_worker_in_process:
        return None
    return start_loop_thread("coinslot-webhook-worker", lambda stop: run_worker(container, stop=stop))
