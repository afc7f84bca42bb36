"""Entitlement use cases: check (read-only, on the host's hot path), consume and holds (atomic).

`check` runs in a read-only unit of work: one statement (entitlements.repository),
more only when something expired unwritten or the feature has a per-period limit;
no lock, no write, no Stripe call. `consume` decides and spends in one write transaction
under the customer's ledger lock, so a decision can never be overtaken by a
concurrent spend (per-period limits included).

Free plans grant their monthly credits lazily: `consume` writes the grant
(entry `free:<customer id>:<YYYY-MM>`, so once per month), and `check` counts it
as if written when it is not yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog, Feature, Plan
from coinslot.customers import service as customers
from coinslot.entitlements import core, repository
from coinslot.entitlements.core import Decision
from coinslot.errors import CoinslotError, Conflict, FeatureNotAllowed, InsufficientCredits, InvalidInput
from coinslot.ledger import service as ledger
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess, best_plan_access, plan_access

__all__ = [
    "DEFAULT_GRACE", "Consumed", "Decision", "capture", "check", "consume", "hold", "refusal", "release",
]

DEFAULT_GRACE = dt.timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Consumed:
    """A use that was allowed and recorded."""

    decision: Decision
    entry: ledger.EntryResult


def refusal(decision: Decision) -> CoinslotError:
    """The 402 error of a refused decision; its code is the decision's reason."""
    if decision.reason == "insufficient_credits":
        return InsufficientCredits(needed=decision.cost, available=decision.remaining or 0)
    return FeatureNotAllowed(decision.message, code=decision.reason)


def _feature(catalog: Catalog, key: str) -> Feature:
    feature = catalog.features.get(key)
    if feature is None:
        raise InvalidInput(f"unknown feature {key!r}: declare it in the catalog", field="feature")
    return feature


def _access(
    session: Session, *, customer_id: int | None, catalog: Catalog, now: dt.datetime, grace: dt.timedelta
) -> PlanAccess:
    if customer_id is None:
        return plan_access(default_plan=catalog.default_plan, now=now, grace=grace, status=None,
                           plan_key=None)
    return subscriptions.plan_access_for(session, customer_id=customer_id, catalog=catalog, now=now,
                                         grace=grace)


def _free_month_entry_id(customer_id: int, now: dt.datetime) -> str:
    return f"free:{customer_id}:{now.astimezone(dt.UTC):%Y-%m}"


def _grants_free_month(plan: Plan | None) -> bool:
    return plan is not None and plan.kind == "free" and not plan.unlimited and plan.credits_per_period > 0


def check(
    session: Session,
    *,
    customer: str,
    feature: str,
    catalog: Catalog,
    now: dt.datetime,
    quantity: int = 1,
    params: Mapping[str, str] | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> Decision:
    """May host user `customer` use `feature` now, at what cost, with what left, and why (no write)."""
    feature_def = _feature(catalog, feature)
    found = repository.check_snapshot(session, host_user_id=customer, now=now)
    customer_id = found.customer_id if found is not None else None
    access = best_plan_access(found.subscriptions if found is not None else (), catalog=catalog, now=now,
                              grace=grace)
    plan = catalog.plans.get(access.plan_key)
    available = 0
    uses = 0
    if found is not None:
        available = found.available_credits
        if found.expiry_due:  # rare: let the ledger apply lazy expiry exactly
            available = ledger.balance(session, customer_id=found.customer_id, now=now).available_credits
        uses = _uses(session, customer_id=found.customer_id, feature=feature_def, access=access, now=now)
    if plan is not None and _grants_free_month(plan) and (
        customer_id is None
        or ledger.find_entry(session, entry_id=_free_month_entry_id(customer_id, now)) is None
    ):
        available += plan.credits_per_period  # what the first consume of the month will grant
    return core.decide(plan=plan, feature=feature_def, access=access, available_credits=available,
                       quantity=quantity, params=params, uses_this_period=uses)


def _uses(
    session: Session, *, customer_id: int, feature: Feature, access: PlanAccess, now: dt.datetime
) -> int:
    """Uses in the current billing period (the calendar month without a subscription period)."""
    if feature.limit_per_period is None:
        return 0
    since = access.period_start or ledger.month_start(now)
    return ledger.usage_count(session, customer_id=customer_id, feature=feature.key, since=since)


def _prepare(
    session: Session, *, customer: str, catalog: Catalog, now: dt.datetime, grace: dt.timedelta
) -> tuple[int, PlanAccess, Plan | None]:
    """Create the customer if new, take its ledger lock, grant the free month if due."""
    customer_id = customers.ensure_customer(session, host_user_id=customer, now=now).id
    ledger.lock(session, customer_id=customer_id, now=now)
    access = _access(session, customer_id=customer_id, catalog=catalog, now=now, grace=grace)
    plan = catalog.plans.get(access.plan_key)
    if plan is not None and _grants_free_month(plan):
        start = ledger.month_start(now)
        ledger.grant_period(
            session, customer_id=customer_id, entry_id=_free_month_entry_id(customer_id, now),
            credits=plan.credits_per_period, period_start=start,
            period_end=ledger.month_start(start + dt.timedelta(days=32)),
            rollover_cap=plan.rollover_cap, unlimited=False, now=now, source=f"plan:{plan.key}",
        )
    return customer_id, access, plan


def _decide_locked(
    session: Session, *, customer_id: int, access: PlanAccess, plan: Plan | None, feature: Feature,
    quantity: int, params: Mapping[str, str] | None, now: dt.datetime, enforce_balance: bool = True,
) -> Decision:
    available = ledger.balance(session, customer_id=customer_id, now=now).available_credits
    uses = _uses(session, customer_id=customer_id, feature=feature, access=access, now=now)
    decision = core.decide(plan=plan, feature=feature, access=access, available_credits=available,
                           quantity=quantity, params=params, uses_this_period=uses)
    if decision.reason == "insufficient_credits" and not enforce_balance:
        return replace(decision, allowed=True, reason="ok")
    if not decision.allowed:
        raise refusal(decision)
    return decision


def consume(
    session: Session,
    *,
    customer: str,
    feature: str,
    idempotency_key: str,
    catalog: Catalog,
    now: dt.datetime,
    quantity: int = 1,
    params: Mapping[str, str] | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
    low_balance_pct: int = ledger.DEFAULT_LOW_BALANCE_PCT,
) -> Consumed:
    """Check and spend in one step. Refused -> a 402 error whose code is the reason, nothing spent.

    The same idempotency key returns the first use (same entry, same balance);
    with another user, feature or cost it is a Conflict.
    """
    feature_def = _feature(catalog, feature)
    cost = core.cost_of(feature_def, quantity=quantity, params=params or {})
    customer_id, access, plan = _prepare(session, customer=customer, catalog=catalog, now=now, grace=grace)
    entry_id = ledger.caller_entry_id(customer_id=customer_id, idempotency_key=idempotency_key)
    first = ledger.find_entry(session, entry_id=entry_id)
    if first is not None:
        return _replayed(first, kind="spend", customer_id=customer_id, feature=feature, cost=cost, plan=plan)
    decision = _decide_locked(session, customer_id=customer_id, access=access, plan=plan, feature=feature_def,
                              quantity=quantity, params=params, now=now)
    entry = ledger.spend(session, customer_id=customer_id, entry_id=entry_id, credits=cost, feature=feature,
                         now=now, unlimited=decision.reason == "unlimited", low_balance_pct=low_balance_pct,
                         entry_id_unused=True)  # looked up above, under the lock
    if decision.remaining is not None:
        decision = replace(decision, remaining=entry.balance_after)
    return Consumed(decision, entry)


def _replayed(first: ledger.EntryResult, *, kind: str, customer_id: int, feature: str, cost: int,
              plan: Plan | None) -> Consumed:
    if (first.kind, first.customer_id, first.feature, first.credits) != (kind, customer_id, feature, cost):
        raise Conflict(f"idempotency key of entry {first.entry_id!r} was already used for another request")
    unlimited = first.available_delta == 0 and first.credits > 0
    decision = Decision(True, cost, None if unlimited else first.balance_after,
                        "unlimited" if unlimited else "ok", plan.key if plan else None)
    return Consumed(decision, first)


def hold(
    session: Session,
    *,
    customer: str,
    feature: str,
    idempotency_key: str,
    timeout_s: int,
    catalog: Catalog,
    now: dt.datetime,
    quantity: int = 1,
    params: Mapping[str, str] | None = None,
    credits: int | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
    low_balance_pct: int = ledger.DEFAULT_LOW_BALANCE_PCT,
) -> Consumed:
    """Reserve the cost of a long job (the feature's cost, or `credits` when the caller estimates it).

    Capture the actual cost or release it later; unresolved, it releases itself after `timeout_s`.
    """
    if timeout_s < 1:
        raise InvalidInput("timeout_s must be >= 1", field="timeout_s")
    feature_def = _feature(catalog, feature)
    customer_id, access, plan = _prepare(session, customer=customer, catalog=catalog, now=now, grace=grace)
    entry_id = ledger.caller_entry_id(customer_id=customer_id, idempotency_key=idempotency_key)
    # A retry replays before deciding: the first hold may have used the very credits a fresh
    # decision would now find missing.
    first = ledger.find_entry(session, entry_id=entry_id)
    if first is not None:
        cost = credits if credits is not None else core.cost_of(feature_def, quantity=quantity,
                                                                 params=params or {})
        return _replayed(first, kind="hold", customer_id=customer_id, feature=feature, cost=cost, plan=plan)
    # With an explicit estimate the feature's own cost does not matter; the ledger checks the balance.
    decision = _decide_locked(session, customer_id=customer_id, access=access, plan=plan, feature=feature_def,
                              quantity=quantity, params=params, now=now, enforce_balance=credits is None)
    amount = decision.cost if credits is None else credits
    entry = ledger.hold(session, customer_id=customer_id, entry_id=entry_id, credits=amount,
                        timeout_s=timeout_s, now=now, feature=feature,
                        unlimited=decision.reason == "unlimited", low_balance_pct=low_balance_pct)
    if decision.remaining is not None:
        decision = replace(decision, cost=amount, remaining=entry.balance_after)
    return Consumed(decision, entry)


def capture(session: Session, *, hold_id: int, credits: int, now: dt.datetime,
            low_balance_pct: int = ledger.DEFAULT_LOW_BALANCE_PCT) -> ledger.EntryResult:
    """Charge a held job's actual cost (see `ledger.service.capture`)."""
    return ledger.capture(session, hold_id=hold_id, credits=credits, now=now, low_balance_pct=low_balance_pct)


def release(session: Session, *, hold_id: int, now: dt.datetime) -> ledger.EntryResult:
    """Cancel a hold; its credits go back (see `ledger.service.release`)."""
    return ledger.release(session, hold_id=hold_id, now=now)
