"""The process-wide parts every entry layer (API, worker, CLI, library) is built on: settings, the
database, the clock and, lazily, the Stripe gateway. Free of FastAPI: the worker and the CLI use it
as they are."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from coinslot.apikeys.cache import KeyCache
from coinslot.clock import Clock, FollowingClock, SystemClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.errors import BillingDisabled, CoinslotError
from coinslot.group_commit import GroupCommit
from coinslot.ratelimit import RateLimiter
from coinslot.stripe_gateway import StripeGateway

__all__ = ["Container", "make_clock", "refresh_clock", "start_clock_follower"]

log = logging.getLogger("coinslot.clock")


@dataclass
class Container:
    """The process-wide parts: settings, database, clock and (lazily) the Stripe gateway."""

    settings: Settings
    db: Database
    clock: Clock
    _gateway: StripeGateway | None = None
    key_cache: KeyCache = field(default_factory=KeyCache)  # keys verified in the last second
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Consumes and holds of this process share commits (coinslot/group_commit.py): `writes.run(work)`.
    writes: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.writes = GroupCommit(self.db.unit_of_work, refusals=(CoinslotError,))

    @property
    def gateway(self) -> StripeGateway:
        """The Stripe gateway; BillingDisabled (503) when billing is off or Stripe is not configured."""
        if not self.settings.billing_enabled:
            raise BillingDisabled(self.settings.billing_disabled_reason)
        if self._gateway is None:
            with self._lock:
                if self._gateway is None:
                    self._gateway = StripeGateway.from_settings(self.settings)
        return self._gateway


def make_clock(settings: Settings) -> Clock:
    """The process's clock: the wall clock, or (test mode, COINSLOT_STRIPE_TEST_CLOCK) one that follows
    a Stripe test clock, read once now (a missing clock stops start-up); `start_clock_follower` then
    reads it every few seconds while the process serves."""
    if not settings.stripe_test_clock:
        return SystemClock()
    test_clock_id = settings.stripe_test_clock
    gateway = StripeGateway.from_settings(settings)
    clock = FollowingClock(lambda: gateway.test_clocks.frozen_time(test_clock_id))
    clock.refresh()
    return clock


def start_clock_follower(container: Container) -> Callable[[], None] | None:
    """Read the Stripe test clock every `stripe_test_clock_poll_s` until the returned stop is called (the
    app's shutdown, the worker's exit); None when the process runs on the wall clock. Stopped, not left
    as a daemon: one outliving its process's Stripe would log into closed streams."""
    clock = container.clock
    if not isinstance(clock, FollowingClock):
        return None
    stop = threading.Event()
    poll_s = container.settings.stripe_test_clock_poll_s

    def follow() -> None:
        while not stop.wait(poll_s):
            try:
                clock.refresh()
            except Exception:  # Stripe unreachable for a moment: keep the last time, try again
                if not stop.is_set():
                    log.warning("could not read the Stripe test clock", exc_info=True)

    thread = threading.Thread(target=follow, name="coinslot-test-clock", daemon=True)
    thread.start()

    def stop_following() -> None:
        stop.set()
        thread.join(timeout=5)

    return stop_following


def refresh_clock(clock: Clock) -> None:
    """Catch up with the Stripe test clock now, if this process follows one (else nothing)."""
    if isinstance(clock, FollowingClock):
        clock.refresh()
