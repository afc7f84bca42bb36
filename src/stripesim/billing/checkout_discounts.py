"""Discounts on a Checkout Session: given at creation (`discounts`), or a promotion code the
customer enters on the pay page (`allow_promotion_codes`).

The session shows what the discount takes (`discounts`, line items'
`amount_discount`, `total_details.amount_discount`, `amount_total`); the
coupon is redeemed only when the session completes: onto the subscription
it creates (subscription mode), or for the payment (payment mode).
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError
from . import discounts
from .context import Ctx
from .discount_math import apply_rules, rule_for

__all__ = ["enter_code", "price_session", "redeem_for_session", "redemptions_of",
           "set_session_discounts"]


def price_session(ctx: Ctx, session: dict[str, Any]) -> None:
    """Amounts of the session and of its line items, less its discounts."""
    if session["mode"] == "setup":
        return
    items = session["_line_items"]
    lines: list[dict[str, Any]] = [{"amount": int(item["amount_subtotal"]), "discountable": True,
                                    "pricing": {"price_details": {
                                        "product": item["price"].get("product")}}}
                                   for item in items]
    rules = []
    for index, entry in enumerate(session["discounts"]):
        coupon = ctx.store.require("coupon", entry["coupon"])
        rules.append(rule_for(f"session_{index}", coupon))
    apply_rules(lines, rules, str(session["currency"]))
    for item, line in zip(items, lines, strict=True):
        taken = sum(int(d["amount"]) for d in line["discount_amounts"])
        item.update(amount_discount=taken, amount_total=int(item["amount_subtotal"]) - taken)
    subtotal = sum(int(item["amount_subtotal"]) for item in items)
    discount = sum(int(item["amount_discount"]) for item in items)
    if session["mode"] == "subscription" and session["_subscription_data"].get(
            "trial_period_days"):
        subtotal = discount = 0  # a trial starts with nothing to pay today
    session.update(amount_subtotal=subtotal, amount_total=subtotal - discount)
    session["total_details"]["amount_discount"] = discount


def set_session_discounts(ctx: Ctx, session: dict[str, Any],
                          redemptions: list[discounts.Redemption]) -> None:
    session["discounts"] = [{"coupon": coupon["id"],
                             "promotion_code": promo["id"] if promo else None}
                            for coupon, promo, _ in redemptions]
    price_session(ctx, session)


def _subtotal(session: dict[str, Any]) -> int:
    return sum(int(item["amount_subtotal"]) for item in session["_line_items"])


def redemptions_of(ctx: Ctx, session: dict[str, Any], *, param: str = "discounts",
                   customer_id: str | None = None) -> list[discounts.Redemption]:
    """The session's discounts, checked again (a code may have expired since it was entered)."""
    raw = [{"promotion_code": d["promotion_code"]} if d["promotion_code"] else
           {"coupon": d["coupon"]} for d in session["discounts"]]
    return discounts.resolve(ctx, raw, param=param,
                             customer_id=customer_id or session.get("customer"),
                             currency=session["currency"], amount=_subtotal(session),
                             at=ctx.now(session.get("customer")))


def enter_code(ctx: Ctx, session: dict[str, Any], code: str) -> None:
    """The customer typed a promotion code on the pay page ("" takes it off again)."""
    if not session.get("allow_promotion_codes"):
        raise InvalidRequestError("This Checkout Session does not accept promotion codes "
                                  "(create it with `allow_promotion_codes=true`).",
                                  param="promotion_code")
    if session["status"] != "open":
        raise InvalidRequestError(f"This Checkout Session is {session['status']}, not open.")
    if not code.strip():
        set_session_discounts(ctx, session, [])
        return
    promo = discounts.find_active_code(ctx.store, code)
    if promo is None:
        raise InvalidRequestError(f"This promotion code is not valid: {code}.",
                                  code="promotion_code_invalid", param="promotion_code")
    redemptions = discounts.resolve(ctx, [{"promotion_code": promo["id"]}],
                                    param="promotion_code", customer_id=session.get("customer"),
                                    currency=session["currency"], amount=_subtotal(session),
                                    at=ctx.now(session.get("customer")))
    set_session_discounts(ctx, session, redemptions)
    ctx.store.touch()


def redeem_for_session(ctx: Ctx, session: dict[str, Any], *, customer_id: str | None,
                       subscription_id: str | None = None) -> list[dict[str, Any]]:
    """Redeem the session's coupons when it completes (checked by `redemptions_of` first)."""
    at = ctx.now(customer_id)
    made = []
    for entry in session["discounts"]:
        coupon = ctx.store.require("coupon", entry["coupon"])
        promo = (ctx.store.require("promotion_code", entry["promotion_code"])
                 if entry["promotion_code"] else None)
        made.append(discounts.redeem(ctx, coupon, promo, customer_id=customer_id, at=at,
                                     subscription_id=subscription_id,
                                     checkout_session=session["id"]))
    return made
