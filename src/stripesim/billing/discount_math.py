"""How much a coupon takes off, in integer minor units (pure functions, no store).

Discounts apply one after the other to what earlier ones left. A percent-off
coupon takes its share of each eligible line, rounded half up; an amount-off
coupon is spread over the eligible lines in proportion to what each has left
(largest remainders get the odd units) and never takes a line below zero.
Eligible lines are discountable (not prorations), positive, and, when the
coupon `applies_to` products, bill one of them.

A rule is `{"discount": "di_...", "percent_off": "25.5" | None,
"amount_off": 500 | None, "currency": "usd" | None, "products": [...] | None}`.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = ["Rule", "apply_rules", "percent_of", "rule_for"]

Rule = dict[str, Any]


def rule_for(discount_id: str, coupon: dict[str, Any]) -> Rule:
    """The rule an invoice keeps for one of its discounts (a copy of the coupon's terms)."""
    return {"discount": discount_id, "percent_off": coupon.get("_percent_off"),
            "amount_off": coupon.get("amount_off"), "currency": coupon.get("currency"),
            "products": list(coupon.get("_products") or []) or None}


def percent_of(amount: int, percent: str) -> int:
    """`percent` % of `amount`, rounded half up (exact: no float)."""
    share = Fraction(Decimal(percent)) * amount / 100
    return int((share + Fraction(1, 2)) // 1)


def _spread(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights` (all ≥ 0), summing exactly to `total`."""
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -((total * weights[i]) % whole))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


def _eligible(line: dict[str, Any], rule: Rule) -> bool:
    if not line.get("discountable") or int(line["amount"]) <= 0:
        return False
    products = rule.get("products")
    if not products:
        return True
    details = (line.get("pricing") or {}).get("price_details") or {}
    return details.get("product") in products


def apply_rules(lines: list[dict[str, Any]], rules: list[Rule], currency: str) -> list[int]:
    """Set each line's `discount_amounts`; the total taken by each rule, in order."""
    left = [int(line["amount"]) for line in lines]
    per_line: list[list[dict[str, Any]]] = [[] for _ in lines]
    totals: list[int] = []
    for rule in rules:
        eligible = [i for i, line in enumerate(lines) if _eligible(line, rule)]
        if rule.get("percent_off") is not None:
            taken = {i: min(left[i], percent_of(left[i], str(rule["percent_off"])))
                     for i in eligible}
        elif rule.get("amount_off") is not None and rule.get("currency") == currency:
            room = sum(left[i] for i in eligible)
            shares = _spread(min(int(rule["amount_off"]), room), [left[i] for i in eligible])
            taken = dict(zip(eligible, shares, strict=True))
        else:
            taken = dict.fromkeys(eligible, 0)
        for i, amount in taken.items():
            left[i] -= amount
            per_line[i].append({"amount": amount, "discount": rule["discount"]})
        totals.append(sum(taken.values()))
    for line, amounts in zip(lines, per_line, strict=True):
        line["discount_amounts"] = amounts
    return totals
