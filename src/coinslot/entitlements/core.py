""""May this user do that?", pure: plan + access policy + balance in, a Decision out.

No I/O, no clock. Costs are whole credits: the feature's cost times the quantity,
scaled by the catalog's multiplier for the request parameter and rounded UP with
Decimal (5 tokens x 1.5 = 7.5 -> 8), so rounding never favours the buyer over
the seller and no float is involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from coinslot.catalog.core import Feature, Plan
from coinslot.errors import InvalidInput
from coinslot.money import ceil_decimal
from coinslot.overage.core import OverageQuote, quote
from coinslot.subscriptions.core import PlanAccess

__all__ = ["REASONS", "Decision", "cost_of", "decide", "may_go_over"]

# Every reason a decision can carry; the refusals are also the error codes of the 402 answers.
REASONS = (
    "ok",
    "unlimited",
    "no_plan",
    "feature_not_in_plan",
    "past_due_grace_over",
    "period_limit_reached",
    "insufficient_credits",
    "overage",
    "overage_cap_reached",
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a check. `remaining` is what is left after this use when allowed (what there is
    when refused); None on an unlimited plan."""

    allowed: bool
    cost: int
    remaining: int | None
    reason: str
    plan_key: str | None
    # Beyond the balance on a plan with overage (reason "overage", or "overage_cap_reached" when refused):
    # the credits billed in arrears and what they add to the period's bill.
    overage: OverageQuote | None = None
    currency: str | None = None  # of the overage's amounts
    seats: int | None = None  # the seats of a per-seat plan's subscription (None: not per seat)

    @property
    def message(self) -> str:
        if self.reason == "insufficient_credits":
            return f"insufficient credits: need {self.cost}, have {self.remaining}"
        return _MESSAGES.get(self.reason, self.reason)


_MESSAGES = {
    "ok": "allowed",
    "unlimited": "allowed: unlimited plan",
    "no_plan": "no plan applies to this customer",
    "feature_not_in_plan": "the customer's plan does not include this feature",
    "past_due_grace_over": "the subscription is past due and its grace period is over",
    "period_limit_reached": "the feature's limit for this billing period is reached",
    "overage": "allowed: the credits beyond the balance are billed at the end of the period",
    "overage_cap_reached": "the plan's overage cap for this billing period is reached",
}


def cost_of(feature: Feature, *, quantity: int, params: Mapping[str, str]) -> int:
    """Credits one request costs: credits x quantity x multiplier, rounded up.

    A multiplier parameter that is absent counts as x1; a value the catalog does
    not list is a 422 naming the parameter and the values it accepts.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidInput(f"quantity must be a whole number >= 1, got {quantity!r}", field="quantity")
    factor = Decimal(1)
    name = feature.multiplier_param
    if name is not None and name in params:
        value = params[name]
        if value not in feature.multipliers:
            accepted = ", ".join(sorted(feature.multipliers))
            raise InvalidInput(
                f"{name}={value!r} is not a value feature {feature.key!r} accepts ({accepted})",
                field=f"params.{name}",
            )
        factor = feature.multipliers[value]
    return ceil_decimal(Decimal(feature.credits) * quantity * factor)


def may_go_over(plan: Plan | None, feature: Feature) -> bool:
    """Whether a use of `feature` on `plan` may go beyond the balance (billed as overage)."""
    return plan is not None and plan.overage is not None and feature.key in plan.overage.features


def decide(
    *,
    plan: Plan | None,
    feature: Feature,
    access: PlanAccess,
    available_credits: int,
    quantity: int = 1,
    params: Mapping[str, str] | None = None,
    uses_this_period: int = 0,
    overage_period_credits: int | None = None,
    addon_features: frozenset[str] = frozenset(),
    seats: int | None = None,
) -> Decision:
    """Whether this use is allowed now, what it costs and what is left; refusals say why.

    Short of credits on a plan with overage for the feature, and given `overage_period_credits` (the
    period's overage so far: the caller reads it only when it matters), the use is allowed as overage
    unless it would take the period's overage past the plan's cap. `addon_features`: what the
    subscription's add-ons unlock besides the plan's features."""
    cost = cost_of(feature, quantity=quantity, params=params or {})
    if plan is None:
        return Decision(False, cost, available_credits, "no_plan", None)
    seats = seats if plan.per_seat else None

    def refuse(reason: str) -> Decision:
        return Decision(False, cost, None if plan.unlimited else available_credits, reason, plan.key,
                        seats=seats)

    if feature.key not in plan.features and feature.key not in addon_features:
        # A lapsed subscription explains the refusal better than the free plan's feature list does.
        lapsed = access.reason == "past_due_grace_over"
        return refuse("past_due_grace_over" if lapsed else "feature_not_in_plan")
    if feature.limit_per_period is not None and uses_this_period >= feature.limit_per_period:
        return refuse("period_limit_reached")
    if plan.unlimited:
        return Decision(True, cost, None, "unlimited", plan.key, seats=seats)
    if cost > available_credits:
        if overage_period_credits is None or plan.overage is None or not may_go_over(plan, feature):
            return refuse("insufficient_credits")
        terms = plan.overage
        over = quote(credits=cost - available_credits, period_credits_before=overage_period_credits,
                     unit_amount_minor=terms.unit_amount_minor, cap_minor=terms.cap_minor)
        allowed = over.within_cap
        return Decision(allowed, cost, 0 if allowed else available_credits,
                        "overage" if allowed else "overage_cap_reached", plan.key, over, terms.currency,
                        seats=seats)
    return Decision(True, cost, available_credits - cost, "ok", plan.key, seats=seats)
