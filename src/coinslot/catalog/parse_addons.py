"""The catalog's seats (fields of a plan) and add-ons (`[addons.<key>]`), read like the rest of the file:
every problem named by file, line and field, all of them at once (`catalog/parser.py` calls these).

    [plans.team]
    per_seat = true               # the price is per seat; checkout takes a quantity
    seat_credits = "per_seat"     # or "pooled": credits_per_period for the whole team
    min_seats = 2
    max_seats = 50

    [addons.extra_tokens]
    prices = { monthly = "29.00" }
    credits_per_period = 100
    plans = ["starter", "professional"]
"""

from __future__ import annotations

from typing import Any

from coinslot.catalog.core import Addon, Feature, Interval, Plan, PlanPrice
from coinslot.catalog.reader import Reader, read_currency, read_price, shown
from coinslot.limits import CREDITS_MAX

__all__ = ["ADDON_FIELDS", "SEAT_FIELDS", "read_addons", "read_seats"]

SEAT_FIELDS = {"per_seat", "seat_credits", "min_seats", "max_seats"}
ADDON_FIELDS = {"name", "description", "prices", "credits_per_period", "features", "plans", "currency"}
_INTERVALS: dict[str, Interval] = {"monthly": "month", "yearly": "year"}
# A team of more than this is a contract, not a checkout; it also keeps credits x seats small.
SEATS_MAX = 100_000


def read_seats(reader: Reader, spec: dict[str, Any], path: str, *, kind: str, credits: int,
               rollover_cap: int) -> dict[str, Any]:
    """A plan's seat fields, as keyword arguments of `Plan`."""
    per_seat = reader.flag(spec, path, "per_seat")
    given = SEAT_FIELDS & set(spec) - {"per_seat"}
    if not per_seat:
        for name in sorted(given):
            reader.problem(f"{path}.{name}", "only for a plan with per_seat = true")
        return {}
    if kind != "subscription":
        reader.problem(f"{path}.per_seat", "a free plan has no seats; per_seat is for subscriptions")
    seat_credits = spec.get("seat_credits", "per_seat")
    if seat_credits not in ("per_seat", "pooled"):
        reader.problem(f"{path}.seat_credits", f'{shown(seat_credits)} is not "per_seat" or "pooled"')
        seat_credits = "per_seat"
    least = reader.whole(spec, path, "min_seats", minimum=1, maximum=SEATS_MAX, default=1) or 1
    most = reader.whole(spec, path, "max_seats", minimum=1, maximum=SEATS_MAX, default=SEATS_MAX)
    most = most or SEATS_MAX
    if most < least:
        reader.problem(f"{path}.max_seats", f"{most} is fewer than min_seats ({least})")
        most = least
    scaled = max(credits, rollover_cap) * most
    if seat_credits == "per_seat" and scaled > CREDITS_MAX:
        each = max(credits, rollover_cap)
        reader.problem(f"{path}.max_seats",
                       f"{most:,} seats x {each:,} credits is more than {CREDITS_MAX:,} a period; "
                       "lower max_seats")
    return {"per_seat": True, "seat_credits": seat_credits, "min_seats": least, "max_seats": most}


def _prices(reader: Reader, spec: dict[str, Any], path: str, key: str, currency: str
            ) -> dict[Interval, PlanPrice]:
    prices: dict[Interval, PlanPrice] = {}
    for label, value in reader.table(spec, path, "prices").items():
        interval = _INTERVALS.get(label)
        if interval is None:
            reader.problem(f"{path}.prices.{label}", "unknown interval; use monthly or yearly")
            continue
        parsed = read_price(reader, value, f"{path}.prices.{label}", currency)
        if parsed is not None:
            prices[interval] = PlanPrice(interval, parsed.amount_minor, currency,
                                         parsed.lookup_key or f"coinslot:addon:{key}:{interval}",
                                         parsed.price_id_test, parsed.price_id_live)
    if not prices and "prices" not in spec:
        reader.problem(f"{path}.prices", 'missing; an add-on needs a monthly and/or yearly price, '
                                         'e.g. prices = { monthly = "29.00" }')
    return prices


def _keys(reader: Reader, spec: dict[str, Any], path: str, field: str, known: dict[str, Any],
          what: str) -> frozenset[str]:
    values = spec.get(field, [])
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        reader.problem(f"{path}.{field}", f'must be a list of {what} keys, e.g. ["{next(iter(known), "x")}"]')
        return frozenset()
    for value in values:
        if value not in known:
            reader.problem(f"{path}.{field}", f'unknown {what} "{value}"')
    return frozenset(value for value in values if value in known)


def _addon(reader: Reader, key: str, spec: dict[str, Any], currency: str, features: dict[str, Feature],
           plans: dict[str, Plan]) -> Addon:
    path = f"addons.{key}"
    reader.only(spec, path, ADDON_FIELDS)
    currency = read_currency(reader, spec, path, currency)
    paid = {plan_key: plan for plan_key, plan in plans.items() if plan.kind == "subscription"}
    allowed = _keys(reader, spec, path, "plans", plans, "plan") if "plans" in spec else frozenset(paid)
    for plan_key in sorted(allowed):
        plan = plans[plan_key]
        if plan.kind != "subscription":
            reader.problem(f"{path}.plans",
                           f'"{plan_key}" is a free plan: an add-on rides on a subscription')
        elif any(price.currency != currency for price in plan.prices.values()):
            reader.problem(f"{path}.currency",
                           f'plan "{plan_key}" bills in another currency than {currency}; '
                           "Stripe bills one currency per subscription")
    return Addon(
        key=key,
        name=reader.text(spec, path, "name") or key.replace("_", " ").capitalize(),
        prices=_prices(reader, spec, path, key, currency),
        plans=frozenset(plan_key for plan_key in allowed if plan_key in paid),
        description=reader.text(spec, path, "description") or "",
        credits_per_period=reader.whole(spec, path, "credits_per_period", default=0) or 0,
        features=_keys(reader, spec, path, "features", features, "feature"),
    )


def read_addons(reader: Reader, items: list[tuple[str, dict[str, Any]]], *, currency: str,
                features: dict[str, Feature], plans: dict[str, Plan]) -> dict[str, Addon]:
    """Every `[addons.<key>]` table (`items`: key and table, as `parser._items` yields them)."""
    return {key: _addon(reader, key, spec, currency, features, plans) for key, spec in items}
