"""`check` without a Session: one prepared statement on a pooled connection, for the host's hot path.

`service.check` reads in a read-only unit of work; its Session, BEGIN and COMMIT cost more than the
statement (docs/benchmarks.md). Here the same snapshot (customer, subscriptions, balance, "expiry due",
and whether the default plan's month is granted yet) is one statement in the driver's autocommit
mode (`db.PreparedRead`): one statement is its own consistent snapshot, nothing is written, no
lock is taken. Every state the snapshot answers completely is decided here by the same rules
(`best_plan_access`, `core.decide`); the rest takes `service.check` itself in a read-only unit of work:

  - a lot or hold expired but not written yet (the ledger's exact lazy expiry),
  - a customer on a Stripe test clock at another time than `now` (test mode),
  - a feature with a per-period limit (its uses are counted),
  - a yearly subscription (months 2..12 are granted by their first use: `ledger/lazy_periods.py`),
  - a free plan other than the default, and a free month with a roll-over cap not granted yet,
  - a subscription with add-ons or on a per-seat plan (their features and seats), and a use short of
    credits on a plan that bills overage (the period's overage so far decides).

Overage is the plan's only when its subscription carries the plan's metered item (`PlanAccess.plan`
drops it otherwise, for both paths): short of credits without that item, the answer here is the exact
path's, insufficient_credits, and never "overage" where consume would refuse.

A check is advisory: `consume` decides again under the customer's ledger lock, and is the truth.
`tests/integration/test_hot_check.py` compares both paths on many states.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from coinslot.catalog.core import Catalog
from coinslot.db import Database
from coinslot.entitlements import core, hot_rules, repository, service
from coinslot.entitlements.core import Decision
from coinslot.subscriptions.core import best_plan_access

__all__ = ["check"]


def check(
    database: Database,
    *,
    host_user_id: str,
    feature: str,
    catalog: Catalog,
    now: dt.datetime,
    quantity: int = 1,
    params: Mapping[str, str] | None = None,
    grace: dt.timedelta = service.DEFAULT_GRACE,
) -> Decision:
    """`service.check`'s answer, read Session-free when one statement can give it (see the module)."""
    feature_def = catalog.features.get(feature)
    if feature_def is None or feature_def.limit_per_period is not None or database.shares_one_connection:
        return _exact(database, host_user_id=host_user_id, feature=feature, catalog=catalog, now=now,
                      quantity=quantity, params=params, grace=grace)
    default_month = hot_rules.default_month(catalog, now)
    found = repository.hot_check_snapshot(
        database, host_user_id=host_user_id, now=now,
        period_source=default_month.source if default_month else "",
        period_start=default_month.start if default_month else now,
    )
    snapshot = found.snapshot if found is not None else None
    if snapshot is not None and (snapshot.expiry_due or snapshot.test_clock_at not in (None, now)):
        return _exact(database, host_user_id=host_user_id, feature=feature, catalog=catalog, now=now,
                      quantity=quantity, params=params, grace=grace)
    subscriptions = snapshot.subscriptions if snapshot is not None else []
    access = best_plan_access(subscriptions, catalog=catalog, now=now, grace=grace)
    plan = access.plan(catalog)  # the terms of the subscriber's plan version
    if hot_rules.has_extras(subscriptions, access, plan):
        return _exact(database, host_user_id=host_user_id, feature=feature, catalog=catalog, now=now,
                      quantity=quantity, params=params, grace=grace)
    if found is None:
        available: int | None = hot_rules.new_user_credits(catalog)
    else:
        pending = hot_rules.pending_credits(found, plan=plan, access=access, catalog=catalog)
        available = None if pending is None else found.snapshot.available_credits + pending
    if available is None:
        return _exact(database, host_user_id=host_user_id, feature=feature, catalog=catalog, now=now,
                      quantity=quantity, params=params, grace=grace)
    decision = core.decide(plan=plan, feature=feature_def, access=access, available_credits=available,
                           quantity=quantity, params=params, uses_this_period=0)
    if decision.reason == "insufficient_credits" and core.may_go_over(plan, feature_def):
        return _exact(database, host_user_id=host_user_id, feature=feature, catalog=catalog, now=now,
                      quantity=quantity, params=params, grace=grace)
    return decision


def _exact(
    database: Database, *, host_user_id: str, feature: str, catalog: Catalog, now: dt.datetime, quantity: int,
    params: Mapping[str, str] | None, grace: dt.timedelta,
) -> Decision:
    with database.unit_of_work(read_only=True) as session:
        return service.check(session, host_user_id=host_user_id, feature=feature, catalog=catalog, now=now,
                             quantity=quantity, params=params, grace=grace)
