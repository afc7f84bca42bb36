"""Running a queue's workers: their ids, the loop of batches, the heartbeat that renews their leases, and
the thread a worker runs in inside `coinslot serve`."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable

__all__ = ["Heartbeat", "new_worker_id", "run_loop", "start_loop_thread"]

log = logging.getLogger("coinslot.queue")


def new_worker_id() -> str:
    """host:pid:random, so an operator can tell which process holds a lease."""
    return f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_loop(name: str, batch: Callable[[], int], *, stop: threading.Event, poll_s: float) -> None:
    """Run batches back to back until `stop` is set; wait `poll_s` when one found nothing to do. A batch
    that raises (the database restarting) is logged and tried again after the wait."""
    while not stop.is_set():
        try:
            claimed = batch()
        except Exception:
            log.exception("%s loop failed; retrying", name, extra={"loop": name})
            claimed = 0
        if claimed == 0:
            stop.wait(poll_s)


class Heartbeat:
    """Renews a worker's leases every `interval_s` in a thread, until stopped.

    `renew_leases()` is the work (one short transaction); a failed renewal is logged and tried again
    at the next beat: the lease is long enough (three beats) to survive one or two.
    """

    def __init__(self, name: str, renew_leases: Callable[[], int], *, interval_s: float) -> None:
        self._renew = renew_leases
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._renew()
            except Exception:  # e.g. the database restarting
                log.exception("lease heartbeat failed; trying again at the next beat")


def start_loop_thread(name: str, loop: Callable[[threading.Event], None]) -> Callable[[], None]:
    """Run `loop(stop)` in a daemon thread beside the API; the returned function stops and joins it.

    The webhook worker and the outbound sender both run this way inside `coinslot serve`.
    """
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop,), name=name, daemon=True)
    thread.start()

    def stop_loop() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_loop
