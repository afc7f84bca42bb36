"""Moving time: test clock advances, and a ticker for objects on real time.

Advancing a clock runs every piece of due work of its objects in time order
(see `billing.scheduler`), setting `frozen_time` to each item's time before
running it, then to the target. The lock is released between items, so
other requests interleave as on Stripe; writes to the clock's objects
meanwhile answer 429 (`billing.context.ensure_writable`).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from . import events, timeutil
from .billing.context import Ctx
from .billing.scheduler import run_next
from .store import TEST_CLOCK_TYPE

if TYPE_CHECKING:
    from .sim import Sim

__all__ = ["advance_now", "begin_advance", "run_due_real_time", "setup", "start_advance_thread",
           "wait_for_advance"]

TICK_S = 1.0
# A runaway schedule (a bug) must not hang an advance forever.
_MAX_STEPS = 100_000


def begin_advance(sim: Sim, clock: dict[str, Any], target: int) -> None:
    """Mark the clock advancing (caller holds the lock); emits ...advancing."""
    clock["status"] = "advancing"
    clock["status_details"] = {"advancing": {"target_frozen_time": target}}
    sim.store.touch()
    events.emit(sim, "test_helpers.test_clock.advancing", clock)


def advance_now(sim: Sim, clock_id: str) -> None:
    """Run the clock up to its target, one due item per lock hold, then mark it ready."""
    store = sim.store
    ctx = Ctx(sim)
    for _ in range(_MAX_STEPS):
        with store.lock:
            clock = store.get(TEST_CLOCK_TYPE, clock_id)
            if clock is None or clock.get("status") != "advancing":
                return
            target = int(clock["status_details"]["advancing"]["target_frozen_time"])

            def set_time(when: int, clock: dict[str, Any] = clock) -> None:
                clock["frozen_time"] = max(int(clock["frozen_time"]), when)

            if run_next(ctx, clock_id, target, set_time):
                store.touch()
                continue
            clock.update(frozen_time=target, status="ready", status_details={})
            store.touch()
            events.emit(sim, "test_helpers.test_clock.ready", clock)
            store.save()
            return
    with store.lock:
        clock = store.get(TEST_CLOCK_TYPE, clock_id)
        if clock is not None:
            clock.update(status="internal_failure", status_details={})
            events.emit(sim, "test_helpers.test_clock.internal_failure", clock)


def start_advance_thread(sim: Sim, clock_id: str) -> None:
    """Run the advance in the background (the API answers `advancing` at once)."""
    name = f"stripesim-advance-{clock_id}"
    for done in [n for n, t in sim.workers.items() if not t.is_alive()]:
        sim.workers.pop(done, None)
    thread = threading.Thread(target=advance_now, args=(sim, clock_id), daemon=True, name=name)
    sim.workers[name] = thread
    thread.start()


def wait_for_advance(sim: Sim, clock_id: str, timeout_s: float) -> bool:
    """Block until a background advance of the clock has finished; False on timeout."""
    thread = sim.workers.get(f"stripesim-advance-{clock_id}")
    if thread is not None:
        thread.join(timeout_s)
        if thread.is_alive():
            return False
        sim.workers.pop(thread.name, None)
    return True


def run_due_real_time(sim: Sim) -> None:
    """Run due work of objects on real time (no clock)."""
    ctx = Ctx(sim)
    for _ in range(_MAX_STEPS):
        with sim.store.lock:
            if not run_next(ctx, None, timeutil.now()):
                return


def _tick(sim_ref: weakref.ref[Sim], stop: threading.Event) -> None:
    while not stop.wait(TICK_S):
        sim = sim_ref()
        if sim is None:
            return
        try:
            run_due_real_time(sim)
        except Exception:  # a bad object must not kill the ticker for everyone else
            import logging

            logging.getLogger("stripesim.clock").exception("real-time billing tick failed")
        del sim


def setup(sim: Sim) -> None:
    """Start the real-time ticker (renewals etc. for objects not on a test clock);
    `sim.close()` stops it."""
    stop = threading.Event()
    ticker = threading.Thread(target=_tick, args=(weakref.ref(sim), stop), daemon=True,
                              name="stripesim-billing-ticker")

    def halt() -> None:
        stop.set()
        ticker.join(timeout=10)

    sim.on_close.append(halt)
    ticker.start()
