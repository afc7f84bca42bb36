"""What the worker's transaction has learned, kept for the transaction's later events.

A batch applies up to 50 events in one transaction (worker.py), and most of them are about a few
customers and their subscriptions: re-learning the same facts per event was most of a handled event's
statements (docs/benchmarks.md). Each fact here is true for the rest of the transaction as long as
nothing undoes or moves it:

  - a customer's row by their Stripe id: a link is never undone (customers/repository.py); the batch's
    customers are read (and locked) in one statement before its first event (`event_time.lock_customers`);
  - a test clock advanced to a time: a clock only moves forward (customers/test_clocks.py);
  - a test clock's time, the time of every customer on it: until a clock moves (`clocks_moved`);
  - a subscription read synced at a time: syncing the same read at the same time again changes nothing
    (`subscriptions.service.sync_subscription` is idempotent), so it is done once; the row it left
    (locked by the sync for the rest of the transaction) is kept for the paid invoices of the batch.

An event whose savepoint rolls back takes back what it wrote, and maybe what was learned from it:
the worker then forgets everything (`forget`), which is rare and always safe.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from coinslot.models import Customer, Subscription
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData
from coinslot.webhooks.reader import Read

__all__ = ["TransactionMemo"]


@dataclass
class TransactionMemo:
    """One transaction's facts (see the module's docstring); a new transaction starts with a new one."""

    customers: dict[str, Customer] = field(default_factory=dict)  # Stripe customer id -> its row
    advanced: set[tuple[str, int]] = field(default_factory=set)  # (test clock id, unix seconds)
    times: dict[str, dt.datetime] = field(default_factory=dict)  # test clock id -> its time
    # (subscription id, the time it was synced at) -> the read synced
    synced: dict[tuple[str, dt.datetime], Read[StripeSubscriptionData]] = field(default_factory=dict)
    mirrored: dict[str, Subscription] = field(default_factory=dict)  # Stripe subscription id -> its row

    def clocks_moved(self) -> None:
        """A test clock's time changed: the clocks' times learned so far may be stale."""
        self.times.clear()

    def forget(self) -> None:
        """An event's savepoint rolled back: nothing learned may outlive what it undid."""
        self.customers.clear()
        self.advanced.clear()
        self.times.clear()
        self.synced.clear()
        self.mirrored.clear()
