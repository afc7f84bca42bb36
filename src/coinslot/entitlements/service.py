"""Entitlement use cases: check (read-only, on the host's hot path), consume and holds (atomic).

`check` runs in a read-only unit of work: one statement (entitlements.repository),
more only when something expired unwritten or the feature has a per-period limit;
no lock, no write, no Stripe call. `consume` decides and spends in one write transaction
under the customer's ledger lock, so a decision can never be overtaken by a
concurrent spend (per-period limits included).

Some periods are granted by their first consume or hold (a free plan's month, months 2..12 of a
yearly plan): the ledger owns them (`ledger/lazy_periods.py`); this module tells it which plan grants
what, and `check` counts a period not granted yet as the first use will find it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog, Feature, Plan, monthly_allowance
from coinslot.customers import service as customers
from coinslot.customers import test_clocks
from coinslot.entitlements import core, hot_consume, repository
from coinslot.entitlements.core import Decision
from coinslot.entitlements.hot_rules import grants_monthly, new_user_credits
from coinslot.errors import CoinslotError, FeatureNotAllowed, InsufficientCredits, InvalidInput
from coinslot.group_commit import GroupCommit
from coinslot.ledger import service as ledger
from coinslot.overage import service as overage
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess, best_plan_access, plan_access
from coinslot.topups import service as topups

__all__ = [
    "DEFAULT_GRACE", "Consumed", "CreditsView", "Decision", "capture", "check", "consume", "consume_grouped",
    "credits_view", "effective_balance", "hold", "new_user_credits", "refusal", "release", "spend",
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
    """What a yearly plan's months need of a mirrored subscription (the model or the check's view)."""

    @property
    def stripe_subscription_id(self) -> str: ...
    @property
    def plan_key(self) -> str | None: ...
    @property
    def interval(self) -> str | None: ...
    @property
    def quantity(self) -> int | None: ...
    @property
    def addons(self) -> dict[str, int] | None: ...
    @property
    def current_period_start(self) -> dt.datetime | None: ...
    @property
    def current_period_end(self) -> dt.datetime | None: ...


@dataclass(frozen=True, slots=True)
class _Extras:
    """The seats and add-ons of the subscription whose plan applies (none when it no longer does)."""

    seats: int | None
    addons: dict[str, int]

    def features(self, catalog: Catalog) -> frozenset[str]:
        known = [catalog.addons[key] for key in self.addons if key in catalog.addons]
        return frozenset().union(*(addon.features for addon in known))


def _extras(access: PlanAccess, subscription: _Mirrored | None) -> _Extras:
    if subscription is None or access.plan_key != subscription.plan_key:
        return _Extras(None, {})  # a lapsed or canceled subscription's add-ons lapse with its plan
    return _Extras(subscription.quantity or 1, dict(subscription.addons or {}))


def _lazy_period(
    session: Session, *, customer_id: int, catalog: Catalog, plan: Plan | None,
    subscription: _Mirrored | None, now: dt.datetime, grace: dt.timedelta,
) -> ledger.LazyPeriod | None:
    """The period of this plan that its first use grants, if `now` is in one (else None: invoices grant)."""
    if plan is None or plan.unlimited:
        return None
    if plan.kind == "free":
        if not grants_monthly(plan):
            return None
        free = ledger.MonthlyAllowance(plan.key, plan.credits_per_period, plan.rollover_cap)
        return ledger.free_month(customer_id=customer_id, allowance=free, now=now)
    if subscription is None or subscription.interval != "year" or subscription.plan_key != plan.key:
        return None
    # A yearly plan's months grant the monthly allowance of its seats and add-ons as they are now.
    credits, rollover_cap = monthly_allowance(catalog, plan, seats=subscription.quantity or 1,
                                              addons=subscription.addons or {})
    if credits <= 0:
        return None
    allowance = ledger.MonthlyAllowance(plan.key, credits, rollover_cap)
    start, end = subscription.current_period_start, subscription.current_period_end
    if start is None or end is None:
        return None
    year = ledger.PaidYear(subscription.stripe_subscription_id, start, end)
    return ledger.yearly_month(session, customer_id=customer_id, allowance=allowance, year=year, now=now,
                               grace=grace)


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
    plan = access.plan(catalog)
    available = 0
    uses = 0
    extras = _Extras(None, {})
    if found is not None:
        available = found.available_credits
        if found.expiry_due:  # rare: let the ledger apply lazy expiry exactly
            available = ledger.balance(session, customer_id=found.customer_id, now=now).available_credits
        uses = _uses(session, customer_id=found.customer_id, feature=feature_def, access=access, now=now)
        subscription = _subscription_view(found, access)
        extras = _extras(access, subscription)
        period = _lazy_period(session, customer_id=found.customer_id, catalog=catalog, plan=plan,
                              subscription=subscription, now=now, grace=grace)
        available += ledger.pending_credits(session, customer_id=found.customer_id, period=period, now=now)
    else:
        available += new_user_credits(catalog)
    decision = core.decide(plan=plan, feature=feature_def, access=access, available_credits=available,
                           quantity=quantity, params=params, uses_this_period=uses,
                           addon_features=extras.features(catalog), seats=extras.seats)
    if found is None or not _short_but_may_go_over(decision, plan, feature_def):
        return decision
    return core.decide(plan=plan, feature=feature_def, access=access, available_credits=available,
                       quantity=quantity, params=params, uses_this_period=uses,
                       overage_period_credits=_overage_so_far(session, customer_id=found.customer_id,
                                                              access=access, now=now),
                       addon_features=extras.features(catalog), seats=extras.seats)


def _short_but_may_go_over(decision: Decision, plan: Plan | None, feature: Feature) -> bool:
    """Refused for credits on a plan that bills the feature's overage: the period's overage decides
    (read only then: the check's hot path pays nothing for it otherwise)."""
    return decision.reason == "insufficient_credits" and core.may_go_over(plan, feature)


def _overage_so_far(session: Session, *, customer_id: int, access: PlanAccess, now: dt.datetime) -> int:
    """Credits beyond the balance in the current billing period (what its invoice's metered line bills)."""
    since = access.period_start or ledger.month_start(now)
    return ledger.overage_credits(session, customer_id=customer_id, since=since)


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
    period = _lazy_period(session, customer_id=customer_id, catalog=catalog, plan=access.plan(catalog),
                          subscription=_subscription_view(found, access), now=now, grace=grace)
    if period is None:
        return CreditsView(balance, 0, None)
    pending = ledger.pending_credits(session, customer_id=customer_id, period=period, now=now)
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


@dataclass(frozen=True, slots=True)
class _Use:
    """Who is using what, resolved before the ledger is asked: the customer (created on their first
    use), their time (their Stripe test clock's, in test mode: customers/test_clocks.py), their plan,
    and the period their first use grants."""

    customer_id: int
    now: dt.datetime
    access: PlanAccess
    plan: Plan | None
    period: ledger.LazyPeriod | None
    extras: _Extras
    stripe_customer_id: str | None = None


def _use(session: Session, *, host_user_id: str, catalog: Catalog, now: dt.datetime,
         grace: dt.timedelta) -> _Use:
    row = customers.ensure_customer(session, host_user_id=host_user_id, now=now)
    if row.stripe_test_clock_id is not None:
        now = test_clocks.time_of(session, customer_id=row.id, now=now)
    access = _access(session, customer_id=row.id, catalog=catalog, now=now, grace=grace)
    plan = access.plan(catalog)
    subscription = (repository.subscription(session, subscription_id=access.subscription_id)
                    if access.subscription_id is not None else None)
    period = _lazy_period(session, customer_id=row.id, catalog=catalog, plan=plan, subscription=subscription,
                          now=now, grace=grace)
    return _Use(row.id, now, access, plan, period, _extras(access, subscription), row.stripe_customer_id)


class _Decider:
    """The ledger's `admit` for one use: the plan's decision on the balance under the customer's lock
    (per-period limits counted there too, so no concurrent use can overtake it); kept for the answer."""

    def __init__(self, session: Session, use: _Use, *, feature: Feature, quantity: int,
                 params: Mapping[str, str] | None, catalog: Catalog, enforce_balance: bool = True,
                 may_go_over: bool = False) -> None:
        self._session, self._use, self._feature, self._catalog = session, use, feature, catalog
        self._quantity, self._params, self._enforce_balance = quantity, params, enforce_balance
        self._may_go_over = may_go_over  # consume only: a hold reserves credits there are, never overage
        self.decision: Decision | None = None

    def __call__(self, available_credits: int) -> bool | ledger.Admitted:
        use = self._use
        uses = _uses(self._session, customer_id=use.customer_id, feature=self._feature, access=use.access,
                     now=use.now)
        decision = core.decide(plan=use.plan, feature=self._feature, access=use.access,
                               available_credits=available_credits, quantity=self._quantity,
                               params=self._params, uses_this_period=uses,
                               addon_features=use.extras.features(self._catalog), seats=use.extras.seats)
        if decision.reason == "insufficient_credits" and not self._enforce_balance:
            decision = replace(decision, allowed=True, reason="ok")  # the ledger checks the estimate
        elif self._may_go_over and _short_but_may_go_over(decision, use.plan, self._feature):
            # Under the customer's lock: no concurrent use can take the period's overage past the cap.
            decision = core.decide(
                plan=use.plan, feature=self._feature, access=use.access, available_credits=available_credits,
                quantity=self._quantity, params=self._params, uses_this_period=uses,
                overage_period_credits=_overage_so_far(self._session, customer_id=use.customer_id,
                                                       access=use.access, now=use.now),
                addon_features=use.extras.features(self._catalog), seats=use.extras.seats)
        if not decision.allowed:
            raise refusal(decision)
        self.decision = decision
        if decision.reason == "overage":
            return ledger.Admitted(overage=True)
        return decision.reason == "unlimited"


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
    with another user, feature or cost it is a Conflict. The usual use is written by `hot_consume` in a
    few prepared statements; every other state by the exact path here.
    """
    use = _Consume(host_user_id, feature, idempotency_key, catalog, now, quantity, params, grace,
                   low_balance_pct)
    return use.plain(session) or use.exact(session)


def consume_grouped(
    writes: GroupCommit,
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
    """`consume` through group commit (the API's and the library's): the plain path in the batch's
    transaction without a savepoint of its own, the exact path in one (coinslot/group_commit.py)."""
    use = _Consume(host_user_id, feature, idempotency_key, catalog, now, quantity, params, grace,
                   low_balance_pct)
    return writes.run(use.exact, plain=use.plain)


@dataclass(frozen=True, slots=True)
class _Consume:
    """One consume's request, for its two paths."""

    host_user_id: str
    feature: str
    idempotency_key: str
    catalog: Catalog
    now: dt.datetime
    quantity: int
    params: Mapping[str, str] | None
    grace: dt.timedelta
    low_balance_pct: int

    def plain(self, session: Session) -> Consumed | None:
        """`hot_consume`'s answer, or None having written nothing. Never a refusal: a bad request (an
        unknown feature, a bad quantity or parameter) is the exact path's to answer, so under group commit
        it costs its own savepoint and not the batch (group_commit.py)."""
        feature_def = self.catalog.features.get(self.feature)
        if feature_def is None:
            return None
        try:
            cost = core.cost_of(feature_def, quantity=self.quantity, params=self.params or {})
        except InvalidInput:
            return None
        plain = hot_consume.consume(session, host_user_id=self.host_user_id, feature=feature_def, cost=cost,
                                    idempotency_key=self.idempotency_key, catalog=self.catalog, now=self.now,
                                    quantity=self.quantity, params=self.params, grace=self.grace,
                                    low_balance_pct=self.low_balance_pct)
        return Consumed(*plain) if plain is not None else None

    def exact(self, session: Session) -> Consumed:
        """Every state: the customer created on first use, their test clock, the lazily granted period,
        per-period limits, overage, refusals and replays."""
        feature_def = _feature(self.catalog, self.feature)
        cost = core.cost_of(feature_def, quantity=self.quantity, params=self.params or {})
        use = _use(session, host_user_id=self.host_user_id, catalog=self.catalog, now=self.now,
                   grace=self.grace)
        decide = _Decider(session, use, feature=feature_def, quantity=self.quantity, params=self.params,
                          catalog=self.catalog, may_go_over=True)
        entry_id = ledger.caller_entry_id(customer_id=use.customer_id, idempotency_key=self.idempotency_key)
        entry = ledger.spend(
            session, customer_id=use.customer_id, entry_id=entry_id, credits=cost, feature=self.feature,
            now=use.now, admit=decide, period=use.period, low_balance_pct=self.low_balance_pct,
        )
        if entry.kind == "overage" and not entry.replayed:
            # Its meter event, queued in the entry's transaction: reported if and only if it committed.
            overage.record(session, entry=entry, stripe_customer_id=use.stripe_customer_id or "",
                           period_end=use.access.period_end, now=self.now)
        _top_up_if_low(session, use, entry, catalog=self.catalog)
        return _consumed(entry, decide.decision, cost=cost, plan=use.plan)


def _top_up_if_low(session: Session, use: _Use, entry: ledger.EntryResult, *, catalog: Catalog) -> None:
    """A use that left the balance under the auto top-up threshold saves a top-up, in this transaction and
    still under the customer's ledger lock (so concurrent uses save one); the worker charges it."""
    if not entry.replayed:
        topups.on_balance_lowered(session, customer_id=use.customer_id, trigger_entry_id=entry.entry_id,
                                  balance_after=entry.balance_after, plan_key=use.access.plan_key,
                                  catalog=catalog, now=use.now)


def _consumed(
    entry: ledger.EntryResult, decision: Decision | None, *, cost: int, plan: Plan | None
) -> Consumed:
    """The answer: the decision with the balance after the entry, or, replayed, the first use's."""
    if decision is None:  # replayed: the ledger answered the first use without deciding again
        unlimited = entry.kind == "spend" and entry.available_delta == 0 and entry.credits > 0
        reason = "overage" if entry.kind == "overage" else "unlimited" if unlimited else "ok"
        decision = Decision(True, cost, None if unlimited else entry.balance_after, reason,
                            plan.key if plan else None)
    elif decision.remaining is not None:
        decision = replace(decision, cost=cost, remaining=entry.balance_after)
    return Consumed(decision, entry)


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
    amount = credits if credits is not None else core.cost_of(feature_def, quantity=quantity,
                                                              params=params or {})
    use = _use(session, host_user_id=host_user_id, catalog=catalog, now=now, grace=grace)
    # With an explicit estimate the feature's own cost does not matter; the ledger checks the balance.
    decide = _Decider(session, use, feature=feature_def, quantity=quantity, params=params, catalog=catalog,
                      enforce_balance=credits is None)
    entry = ledger.hold(
        session, customer_id=use.customer_id,
        entry_id=ledger.caller_entry_id(customer_id=use.customer_id, idempotency_key=idempotency_key),
        credits=amount, timeout_s=timeout_s, now=use.now, feature=feature, admit=decide, period=use.period,
        low_balance_pct=low_balance_pct,
    )
    _top_up_if_low(session, use, entry, catalog=catalog)
    return _consumed(entry, decide.decision, cost=amount, plan=use.plan)


def spend(
    session: Session,
    *,
    host_user_id: str,
    credits: int,
    feature: str | None,
    idempotency_key: str,
    catalog: Catalog,
    now: dt.datetime,
    grace: dt.timedelta = DEFAULT_GRACE,
    low_balance_pct: int = ledger.DEFAULT_LOW_BALANCE_PCT,
) -> ledger.EntryResult:
    """Spend credits with no plan check (`POST /v1/credits/{host_user_id}/spend`; `consume` is the checked
    one), at the customer's time; under the auto top-up threshold it tops up as a consume does. NotFound
    for a user coinslot has never seen; 402 when short, nothing spent."""
    customer_id = ledger.customer_id_for(session, host_user_id=host_user_id)
    now = test_clocks.time_of(session, customer_id=customer_id, now=now)
    entry = ledger.spend(
        session, customer_id=customer_id,
        entry_id=ledger.caller_entry_id(customer_id=customer_id, idempotency_key=idempotency_key),
        credits=credits, feature=feature, now=now, low_balance_pct=low_balance_pct,
    )
    _top_up_if_lowered(session, entry, catalog=catalog, now=now, grace=grace)
    return entry


def capture(session: Session, *, hold_id: int, credits: int, catalog: Catalog, now: dt.datetime,
            grace: dt.timedelta = DEFAULT_GRACE,
            low_balance_pct: int = ledger.DEFAULT_LOW_BALANCE_PCT) -> ledger.EntryResult:
    """Charge a held job's actual cost (see `ledger.service.capture`). Drawing more than the hold is a use
    like any other: under the auto top-up threshold it tops up; within the hold, the hold already did."""
    now = _hold_time(session, hold_id=hold_id, now=now)
    entry = ledger.capture(session, hold_id=hold_id, credits=credits, now=now,
                           low_balance_pct=low_balance_pct)
    if entry.available_delta < 0:
        _top_up_if_lowered(session, entry, catalog=catalog, now=now, grace=grace)
    return entry


def _top_up_if_lowered(session: Session, entry: ledger.EntryResult, *, catalog: Catalog, now: dt.datetime,
                       grace: dt.timedelta) -> None:
    """`_top_up_if_low` for a use that did not resolve the customer's plan first (a raw spend, a capture):
    read only when the balance it left may top up. Still under the ledger lock the entry took."""
    if entry.replayed or not topups.may_top_up(catalog, balance_after=entry.balance_after):
        return
    access = _access(session, customer_id=entry.customer_id, catalog=catalog, now=now, grace=grace)
    topups.on_balance_lowered(session, customer_id=entry.customer_id, trigger_entry_id=entry.entry_id,
                              balance_after=entry.balance_after, plan_key=access.plan_key, catalog=catalog,
                              now=now)


def release(session: Session, *, hold_id: int, now: dt.datetime) -> ledger.EntryResult:
    """Cancel a hold; its credits go back (see `ledger.service.release`)."""
    now = _hold_time(session, hold_id=hold_id, now=now)
    return ledger.release(session, hold_id=hold_id, now=now)


def _hold_time(session: Session, *, hold_id: int, now: dt.datetime) -> dt.datetime:
    """The time of the customer a hold belongs to (their test clock's, in test mode)."""
    customer_id = ledger.get_hold(session, hold_id=hold_id, now=now).customer_id
    return test_clocks.time_of(session, customer_id=customer_id, now=now)
