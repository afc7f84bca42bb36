"""Entitlement use cases: check (read-only, on the host's hot path), consume and holds (atomic).

`check` runs in a read-only unit of work: one statement (entitlements.repository),
more only when something expired unwritten or the feature has a per-period limit;
no lock, no write, no Stripe call. `consume` decides and spends in one write transaction
under the customer's ledger lock, so a decision can never be overtaken by a
concurrent spend (per-period limits included).

Some periods are granted lazily, by the first consume or hold in them (`_LazyPeriod`), and
`check` counts them (with their rollover) as if written when they are not yet:
  - a free plan's month: entry `free:<customer id>:<YYYY-MM>`;
  - months 2..12 of a paid yearly subscription (`credits_per_period` is a monthly allowance; the
    year's invoice grants month 1): entry `<the year's first grant entry>:m<n>`, e.g.
    `invoice:in_123:m2`, with the plan in effect that month. Months are calendar months from the
    year's start (`ledger.period_month`); each month's credits end with it, the last month's
    `grace` after the year, like any subscription period awaiting its renewal.
A period already granted (e.g. by an upgrade's invoice that month) is never granted again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog, Feature, Plan
from coinslot.customers import service as customers
from coinslot.customers import test_clocks
from coinslot.entitlements import core, repository
from coinslot.entitlements.core import Decision
from coinslot.errors import CoinslotError, Conflict, FeatureNotAllowed, InsufficientCredits, InvalidInput
from coinslot.ledger import ids as ledger_ids
from coinslot.ledger import service as ledger
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess, best_plan_access, plan_access

__all__ = [
    "DEFAULT_GRACE", "Consumed", "CreditsView", "Decision", "capture", "check", "consume", "credits_view",
    "effective_balance", "hold", "new_user_credits", "refusal", "release",
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


class _Mirrored(Protocol):
    """What the lazy yearly months need of a mirrored subscription (the model or the check's view)."""

    @property
    def stripe_subscription_id(self) -> str: ...
    @property
    def interval(self) -> str | None: ...
    @property
    def current_period_start(self) -> dt.datetime | None: ...
    @property
    def current_period_end(self) -> dt.datetime | None: ...


@dataclass(frozen=True, slots=True)
class _LazyPeriod:
    """A plan period granted by its first consume or hold, and counted by `check` until then."""

    entry_id: str
    source: str
    credits: int
    rollover_cap: int
    start: dt.datetime
    end: dt.datetime
    renewal_grace: dt.timedelta


def _grants_monthly(plan: Plan | None) -> bool:
    return plan is not None and not plan.unlimited and plan.credits_per_period > 0


def _lazy_period(
    session: Session, *, customer_id: int, plan: Plan | None, subscription: _Mirrored | None,
    now: dt.datetime, grace: dt.timedelta,
) -> _LazyPeriod | None:
    """The lazily granted period `now` falls in for this plan, or None (granted by invoices only)."""
    if plan is None or not _grants_monthly(plan):
        return None
    if plan.kind == "free":
        start = ledger.month_start(now)
        return _LazyPeriod(ledger_ids.free_month(customer_id, now), ledger_ids.plan_source(plan.key),
                           plan.credits_per_period, plan.rollover_cap, start,
                           ledger.month_start(start + dt.timedelta(days=32)), dt.timedelta(0))
    if subscription is None:
        return None
    return _yearly_month(session, customer_id=customer_id, plan=plan, subscription=subscription, now=now,
                         grace=grace)


def _yearly_month(
    session: Session, *, customer_id: int, plan: Plan, subscription: _Mirrored, now: dt.datetime,
    grace: dt.timedelta,
) -> _LazyPeriod | None:
    start, end = subscription.current_period_start, subscription.current_period_end
    if subscription.interval != "year" or start is None or end is None or end <= start:
        return None
    month = ledger.period_month(period_start=start, period_end=end, at=now)
    if month.number == 1:
        return None  # the year's invoice grants it
    source = ledger_ids.subscription_source(subscription.stripe_subscription_id)
    opening = ledger.period_opening_entry_id(session, customer_id=customer_id, period_start=start,
                                             source=source)
    if opening is None:
        return None  # the year is not paid (yet): no month of it is handed out
    return _LazyPeriod(ledger_ids.yearly_month(opening, month.number), source, plan.credits_per_period,
                       plan.rollover_cap, month.start, month.end, grace if month.last else dt.timedelta(0))


def _granted(session: Session, *, customer_id: int, period: _LazyPeriod) -> bool:
    """By period, not by entry id: an upgrade's invoice may have opened the month already."""
    return ledger.period_opening_entry_id(session, customer_id=customer_id, period_start=period.start,
                                          source=period.source) is not None


def _pending_credits(session: Session, *, customer_id: int, period: _LazyPeriod | None,
                     now: dt.datetime) -> int:
    """What the first consume of a lazily granted period will add, when it is not granted yet."""
    if period is None or _granted(session, customer_id=customer_id, period=period):
        return 0
    return period.credits + ledger.pending_rollover(
        session, customer_id=customer_id, period_start=period.start, source=period.source,
        rollover_cap=period.rollover_cap, now=now,
    )


def new_user_credits(catalog: Catalog) -> int:
    """What a user coinslot has not seen yet has: the default plan's month, granted by their first use."""
    plan = catalog.default
    return plan.credits_per_period if plan.kind == "free" and _grants_monthly(plan) else 0


def _subscription_view(found: repository.CheckSnapshot, access: PlanAccess) -> _Mirrored | None:
    return next((row for row in found.subscriptions if row.id == access.subscription_id), None)


def check(
    session: Session,
    *,
    host_user_id: str,
    feature: str,
    catalog: Catalog,
    now: dt.datetime,
    quantity: int = 1,
    params: Mapping[str, str] | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> Decision:
    """May host user `host_user_id` use `feature` now, at what cost, with what left, and why (no write)."""
    feature_def = _feature(catalog, feature)
    found = repository.check_snapshot(session, host_user_id=host_user_id, now=now)
    if found is not None and found.test_clock_at is not None and found.test_clock_at != now:
        # Test mode: the customer lives at their Stripe test clock's time (customers/test_clocks.py).
        now = found.test_clock_at
        found = repository.check_snapshot(session, host_user_id=host_user_id, now=now)
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
        period = _lazy_period(session, customer_id=found.customer_id, plan=plan,
                              subscription=_subscription_view(found, access), now=now, grace=grace)
        available += _pending_credits(session, customer_id=found.customer_id, period=period, now=now)
    else:
        available += new_user_credits(catalog)
    return core.decide(plan=plan, feature=feature_def, access=access, available_credits=available,
                       quantity=quantity, params=params, uses_this_period=uses)


@dataclass(frozen=True, slots=True)
class CreditsView:
    """A person's credits as every surface shows them (API, pages, summary), and as `check` counts them."""

    balance: ledger.Balance  # the ledger's, with the lazily granted period counted in
    pending_credits: int  # the part of `balance.available_credits` the period's first use will write
    lazy_period_start: dt.datetime | None  # start of the lazily granted period `now` is in (free / yearly)


def credits_view(
    session: Session, *, customer_id: int, host_user_id: str, catalog: Catalog, now: dt.datetime,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> CreditsView:
    """The balance a person should see: the ledger's, plus the lazily granted month (free plan,
    months 2..12 of a yearly plan) that their first use will write, as `check` counts it.

    Without this the billing page would show 0 credits on the first day of every month until
    the user's first use of it, and the API another balance than the check's.
    """
    balance = ledger.balance(session, customer_id=customer_id, now=now)
    found = repository.check_snapshot(session, host_user_id=host_user_id, now=now)
    if found is None:
        return CreditsView(balance, 0, None)
    access = best_plan_access(found.subscriptions, catalog=catalog, now=now, grace=grace)
    period = _lazy_period(session, customer_id=customer_id, plan=catalog.plans.get(access.plan_key),
                          subscription=_subscription_view(found, access), now=now, grace=grace)
    if period is None:
        return CreditsView(balance, 0, None)
    pending = _pending_credits(session, customer_id=customer_id, period=period, now=now)
    if pending == 0:
        return CreditsView(balance, 0, period.start)
    counted = replace(balance, available_credits=balance.available_credits + pending,
                      period_credits=period.credits)
    return CreditsView(counted, pending, period.start)


def effective_balance(
    session: Session, *, customer_id: int, host_user_id: str, catalog: Catalog, now: dt.datetime,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> ledger.Balance:
    """`credits_view`'s balance."""
    return credits_view(session, customer_id=customer_id, host_user_id=host_user_id, catalog=catalog,
                        now=now, grace=grace).balance


def _uses(
    session: Session, *, customer_id: int, feature: Feature, access: PlanAccess, now: dt.datetime
) -> int:
    """Uses in the current billing period (the calendar month without a subscription period)."""
    if feature.limit_per_period is None:
        return 0
    since = access.period_start or ledger.month_start(now)
    return ledger.usage_count(session, customer_id=customer_id, feature=feature.key, since=since)


def _prepare(
    session: Session, *, host_user_id: str, catalog: Catalog, now: dt.datetime, grace: dt.timedelta
) -> tuple[int, PlanAccess, Plan | None, dt.datetime]:
    """Create the customer if new, take its ledger lock, grant the lazy period (free or yearly month)
    if due: under the lock, so concurrent first uses of a month grant it once. Returns the customer's
    time too (their Stripe test clock's, in test mode: customers/test_clocks.py)."""
    row = customers.ensure_customer(session, host_user_id=host_user_id, now=now)
    customer_id = row.id
    if row.stripe_test_clock_id is not None:
        now = test_clocks.time_of(session, customer_id=customer_id, now=now)
    ledger.lock(session, customer_id=customer_id, now=now)
    access = _access(session, customer_id=customer_id, catalog=catalog, now=now, grace=grace)
    plan = catalog.plans.get(access.plan_key)
    subscription = (repository.subscription(session, subscription_id=access.subscription_id)
                    if access.subscription_id is not None else None)
    period = _lazy_period(session, customer_id=customer_id, plan=plan, subscription=subscription, now=now,
                          grace=grace)
    if period is not None and not _granted(session, customer_id=customer_id, period=period):
        ledger.grant_period(
            session, customer_id=customer_id, entry_id=period.entry_id, credits=period.credits,
            period_start=period.start, period_end=period.end, rollover_cap=period.rollover_cap,
            unlimited=False, now=now, source=period.source, renewal_grace=period.renewal_grace,
        )
    return customer_id, access, plan, now


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
    host_user_id: str,
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
    customer_id, access, plan, now = _prepare(session, host_user_id=host_user_id, catalog=catalog, now=now,
                                              grace=grace)
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
    host_user_id: str,
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
    customer_id, access, plan, now = _prepare(session, host_user_id=host_user_id, catalog=catalog, now=now,
                                              grace=grace)
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
    now = _hold_time(session, hold_id=hold_id, now=now)
    return ledger.capture(session, hold_id=hold_id, credits=credits, now=now, low_balance_pct=low_balance_pct)


def release(session: Session, *, hold_id: int, now: dt.datetime) -> ledger.EntryResult:
    """Cancel a hold; its credits go back (see `ledger.service.release`)."""
    now = _hold_time(session, hold_id=hold_id, now=now)
    return ledger.release(session, hold_id=hold_id, now=now)


def _hold_time(session: Session, *, hold_id: int, now: dt.datetime) -> dt.datetime:
    """The time of the customer a hold belongs to (their test clock's, in test mode)."""
    customer_id = ledger.get_hold(session, hold_id=hold_id, now=now).customer_id
    return test_clocks.time_of(session, customer_id=customer_id, now=now)
