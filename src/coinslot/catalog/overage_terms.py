"""A plan's `[plans.<key>.overage]` table -> `catalog.core.Overage`, problems named by file, line and field.

    [plans.professional.overage]
    price_per_credit = "0.004"    # per credit beyond the balance, billed at the period's end
    cap = "50.00"                 # optional: the most one period's overage may cost
    features = ["pdp_analyzer"]   # optional: default every feature of the plan

The price per credit may be a fraction of the currency's smallest unit ("0.004" dollars is 0.4 cent):
Stripe bills it as `unit_amount_decimal`, which takes at most 12 decimals of the minor unit.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from coinslot.catalog.core import Interval, Overage
from coinslot.catalog.reader import AMOUNT_MINOR_MAX, Reader, shortened, shown
from coinslot.money import currency_exponent

__all__ = ["read_overage"]

_FIELDS = {"price_per_credit", "cap", "features", "lookup_key_monthly", "lookup_key_yearly"}
_MINOR_DECIMALS_MAX = 12  # Stripe's unit_amount_decimal
_LABELS: dict[Interval, str] = {"month": "monthly", "year": "yearly"}


def _unit_amount_minor(reader: Reader, value: Any, path: str, currency: str) -> Decimal | None:
    """A price per credit as written ("0.004", 0.25 or 1) -> minor units, exact; None after a problem."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal) or len(str(value)) > 40:
        reader.problem(path, f'must be an amount such as "0.004", not {shortened(value)}')
        return None
    try:
        major = Decimal(str(value).strip())
    except InvalidOperation:
        major = Decimal("NaN")
    if not major.is_finite() or major <= 0:
        reader.problem(path, f'{shown(value)} is not a positive amount such as "0.004"')
        return None
    if major.adjusted() > 12:  # before any arithmetic: "1e99999" must not reach scaleb
        reader.problem(path, f"{shortened(value)} is more than Stripe accepts")
        return None
    minor = major.scaleb(currency_exponent(currency)).normalize()
    exponent = minor.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > _MINOR_DECIMALS_MAX:
        reader.problem(path, f"{shown(value)} has more than {_MINOR_DECIMALS_MAX} decimals of a "
                             f"{currency.upper()} minor unit (Stripe's unit_amount_decimal)")
        return None
    if minor > AMOUNT_MINOR_MAX:
        reader.problem(path, f"{shown(value)} is more than Stripe accepts (at most {AMOUNT_MINOR_MAX:,} "
                             "minor units)")
        return None
    return minor


def read_overage(
    reader: Reader, spec: dict[str, Any], *, plan_key: str, kind: str, currency: str,
    plan_features: list[str], intervals: list[Interval],
) -> Overage | None:
    """The plan's overage terms, or None when it has none (or they have a problem, reported)."""
    if "overage" not in spec:
        return None
    path = f"plans.{plan_key}.overage"
    table = reader.table(spec, f"plans.{plan_key}", "overage")
    reader.only(table, path, _FIELDS)
    if kind != "subscription":
        reader.problem(path, "only a subscription plan has overage: it is billed on the subscription")
        return None
    if "price_per_credit" not in table:
        reader.problem(f"{path}.price_per_credit", 'missing; e.g. price_per_credit = "0.004"')
        return None
    unit = _unit_amount_minor(reader, table["price_per_credit"], f"{path}.price_per_credit", currency)
    cap = reader.amount(table["cap"], f"{path}.cap", currency) if "cap" in table else None
    features = table.get("features", plan_features)
    if not isinstance(features, list) or not all(isinstance(item, str) for item in features):
        reader.problem(f"{path}.features", 'must be a list of feature keys, e.g. ["export"]')
        return None
    for feature in features:
        if feature not in plan_features:
            reader.problem(f"{path}.features", f'"{feature}" is not a feature of plan {plan_key}')
    lookup_keys = {interval: reader.text(table, path, f"lookup_key_{_LABELS[interval]}")
                   or f"coinslot:plan:{plan_key}:overage:{interval}" for interval in intervals}
    if unit is None or ("cap" in table and cap is None):
        return None
    return Overage(unit, currency, frozenset(features), cap, lookup_keys)
