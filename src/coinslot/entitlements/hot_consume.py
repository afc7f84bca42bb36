"""The common consume in a handful of prepared statements; `service.consume` decides everything else.

A consume on a hot account runs while every other writer of the account waits (on SQLite, every writer
of the database). `service.consume` resolves the customer, plan and lazily granted period through the
ORM (a dozen statements and several milliseconds of Python before the lock is even taken; see
docs/benchmarks.md, consume). The usual use needs none of that: a known customer on a monthly or
default free plan, a feature without a per-period limit, and a balance that covers it. Here it is:

    repository.hot_snapshot_in     customer, subscriptions, default month granted (the hot check's read)
    ledger.spend_plain             lock + balance + live lots, then the entry, its draws, the balance

and the plan's rules (`best_plan_access`, `core.decide`) decide on the balance under the lock, as
`service.consume`'s `_Decider` does. Every state the snapshot cannot answer alone (`hot_rules`: add-ons,
seats, yearly months, a period not granted yet, a test clock, something expired), every answer that
is not a plain "ok" (a refusal, overage, unlimited, a crossed low-balance threshold) and a retried
idempotency key return None having written nothing, and `service.consume` runs in the same
transaction. `tests/integration/test_hot_consume.py` writes the same uses both ways and compares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog, Feature
from coinslot.entitlements import core, hot_rules, repository
from coinslot.entitlements.core import Decision
from coinslot.ledger import service as ledger
from coinslot.subscriptions.core import best_plan_access
from coinslot.topups import service as topups

__all__ = ["consume"]


def consume(
    session: Session,
    *,
    host_user_id: str,
    feature: Feature,
    cost: int,
    idempotency_key: str,
    catalog: Catalog,
    now: dt.datetime,
    quantity: int,
    params: Mapping[str, str] | None,
    grace: dt.timedelta,
    low_balance_pct: int,
) -> tuple[Decision, ledger.EntryResult] | None:
    """`service.consume`'s decision and entry for a plain use, or None with nothing written (see the
    module)."""
    if feature.limit_per_period is not None:
        return None  # its uses this period are counted by the exact path
    found = _snapshot(session, host_user_id=host_user_id, catalog=catalog, now=now)
    if found is None:
        return None  # a first use creates the customer
    snapshot = found.snapshot
    if snapshot.expiry_due or snapshot.test_clock_at not in (None, now):
        return None
    access = best_plan_access(snapshot.subscriptions, catalog=catalog, now=now, grace=grace)
    plan = access.plan(catalog)
    if (hot_rules.has_extras(snapshot.subscriptions, access, plan)
            or hot_rules.pending_credits(found, plan=plan, access=access, catalog=catalog) != 0):
        return None
    decided: list[Decision] = []

    def admit(available_credits: int) -> bool:
        decision = core.decide(plan=plan, feature=feature, access=access, available_credits=available_credits,
                               quantity=quantity, params=params, uses_this_period=0)
        decided.append(decision)
        return decision.allowed and decision.reason == "ok"

    customer_id = snapshot.customer_id
    entry = ledger.spend_plain(
        session, customer_id=customer_id,
        entry_id=ledger.caller_entry_id(customer_id=customer_id, idempotency_key=idempotency_key),
        credits=cost, feature=feature.key, now=now, admit=admit, low_balance_pct=low_balance_pct,
    )
    if entry is None:
        return None
    # As `service.consume`: a use that left the balance under the auto top-up threshold saves a top-up.
    topups.on_balance_lowered(session, customer_id=customer_id, trigger_entry_id=entry.entry_id,
                              balance_after=entry.balance_after, plan_key=access.plan_key, catalog=catalog,
                              now=now)
    return replace(decided[-1], cost=cost, remaining=entry.balance_after), entry


_SNAPSHOTS = "coinslot_hot_consume_snapshots"


def _snapshot(session: Session, *, host_user_id: str, catalog: Catalog,
              now: dt.datetime) -> repository.HotSnapshot | None:
    """The customer's snapshot, read once per transaction (a batch of group commit runs many consumes of
    one hot account in one). As `service.consume` reads the plan before it takes the account lock, a
    snapshot read a few milliseconds earlier in the same transaction decides as well; what must be read
    under the lock (the balance, what expired) the ledger reads there. A period granted stays granted;
    one not granted sends the use to the exact path, which grants it."""
    month = hot_rules.default_month(catalog, now)
    key = (host_user_id, month.source if month else "", month.start if month else None)
    transaction = session.get_transaction()
    kept = session.info.get(_SNAPSHOTS)
    if kept is None or kept[0] is not transaction:
        snapshots: dict[tuple[str, str, dt.datetime | None], repository.HotSnapshot] = {}
        kept = session.info[_SNAPSHOTS] = (transaction, snapshots)
    found: repository.HotSnapshot | None = kept[1].get(key)
    if found is None:
        found = repository.hot_snapshot_in(session, host_user_id=host_user_id, now=now,
                                           period_source=key[1], period_start=month.start if month else now)
        if found is not None and transaction is not None:
            kept[1][key] = found
    return found
