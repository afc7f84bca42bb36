"""The expiry sweep of `coinslot worker`: writes the expiry entries time has made due.

Reads never need it (a balance applies what is due as of its moment) and every write settles its
customer first; the sweep makes the ledger itself show an expired lot or a timed-out hold within a
minute, for the credit history, the admin console and `credits verify`. One customer per transaction,
so no lock is held longer than one customer's settle; several workers may sweep at once (each settle
runs under the customer's lock and writes what is due once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from coinslot.container import Container
from coinslot.ledger import service
from coinslot.queue.runner import start_loop_thread

__all__ = ["start_expiry_sweep", "sweep_once"]

log = logging.getLogger("coinslot.ledger")

_BATCH_CUSTOMERS = 500


def sweep_once(container: Container) -> int:
    """Settle every customer with something due now, once each; returns how many."""
    now = container.clock.now()
    swept = 0
    after_customer_id = 0  # a cursor, so one pass ends even if a customer stays due
    while True:
        with container.db.unit_of_work(read_only=True) as session:
            customer_ids = service.customers_with_expiry_due(
                session, now=now, after_customer_id=after_customer_id, limit=_BATCH_CUSTOMERS)
        for customer_id in customer_ids:
            with container.db.unit_of_work() as session:
                service.settle_customer(session, customer_id=customer_id, now=now)
        swept += len(customer_ids)
        if len(customer_ids) < _BATCH_CUSTOMERS:
            return swept
        after_customer_id = customer_ids[-1]


def start_expiry_sweep(container: Container) -> Callable[[], None] | None:
    """Sweep every `expiry_sweep_interval_s` in a thread (0 = off); returns the function that stops it."""
    interval_s = container.settings.expiry_sweep_interval_s
    if interval_s <= 0:
        return None

    def loop(stop: threading.Event) -> None:
        while not stop.wait(interval_s):
            try:
                swept = sweep_once(container)
            except Exception:  # the database restarting: the next turn tries again
                log.exception("expiry sweep failed; trying again at the next interval")
                continue
            if swept:
                log.info("expiries written", extra={"customers": swept})

    return start_loop_thread("coinslot-expiry-sweep", loop)
