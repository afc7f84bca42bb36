"""Coupons and promotion codes becoming discounts: on subscriptions, Checkout and invoices.

Redeeming a coupon (directly, or through a promotion code) makes a
`discount` (`di_...`, `source.coupon`, `start`, `end` for repeating
coupons) and counts the redemption on the coupon and the code. A
subscription's discounts go on each invoice it makes (`invoice.discounts`,
with the terms copied to `_discount_rules` so totals can be recomputed from
the invoice alone, see `discount_math`) for as long as they last: a `once`
coupon is used up by the first invoice it lowers, a `repeating` one ends
`duration_in_months` after it started (removed then, with
`customer.discount.deleted`), a `forever` one stays.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError
from ..store import Store, new_id
from .context import Ctx
from .discount_math import apply_rules, rule_for
from .periods import boundary

__all__ = ["Redemption", "active_on", "announce", "attach_to_invoice", "check_coupon",
           "check_promotion", "consume_once", "discounted", "expiry_due", "find_active_code",
           "redeem", "remove", "resolve", "set_on_subscription"]

# (coupon, promotion code or None, an existing discount kept as it is or None)
Redemption = tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]


def find_active_code(store: Store, code: str) -> dict[str, Any] | None:
    """The active promotion code a customer typed, whatever its case (codes are unique among
    active ones, case-insensitively)."""
    wanted = code.strip().upper()
    return next((p for p in store.all("promotion_code")
                 if p["active"] and p["code"].upper() == wanted), None)


def check_coupon(coupon: dict[str, Any], *, at: int, currency: str | None, param: str) -> None:
    """400 when the coupon cannot be redeemed now (deleted, expired, used up, other currency)."""
    if coupon.get("deleted"):
        raise InvalidRequestError(f"No such coupon: '{coupon['id']}'", code="resource_missing",
                                  param=param, http_status=404)
    redeem_by, limit = coupon.get("redeem_by"), coupon.get("max_redemptions")
    if (redeem_by is not None and at > int(redeem_by)) or (
            limit is not None and int(coupon["times_redeemed"]) >= int(limit)):
        raise InvalidRequestError(f"Coupon {coupon['id']} is no longer valid: it expired or has "
                                  "reached its maximum number of redemptions.",
                                  code="coupon_expired", param=param)
    if coupon.get("amount_off") is not None and currency and coupon["currency"] != currency:
        raise InvalidRequestError(f"Coupon {coupon['id']} is in {coupon['currency']} and cannot "
                                  f"be applied to an amount in {currency}.", param=param)


def _has_paid_before(ctx: Ctx, customer_id: str) -> bool:
    return any(c.get("customer") == customer_id and c["status"] == "succeeded"
               for c in ctx.store.all("charge"))


def check_promotion(ctx: Ctx, promo: dict[str, Any], *, customer_id: str | None,
                    amount: int | None, currency: str | None, at: int,
                    param: str) -> dict[str, Any]:
    """The coupon of a promotion code that can be redeemed now; 400 with the reason otherwise."""
    code = promo["code"]
    expires, limit = promo.get("expires_at"), promo.get("max_redemptions")
    if not promo["active"] or (expires is not None and at > int(expires)):
        raise InvalidRequestError(f"This promotion code cannot be used: {code} is inactive or "
                                  "has expired.", code="promotion_code_invalid", param=param)
    if limit is not None and int(promo["times_redeemed"]) >= int(limit):
        raise InvalidRequestError(f"This promotion code cannot be used: {code} has reached its "
                                  "maximum number of redemptions.",
                                  code="promotion_code_invalid", param=param)
    if promo.get("customer") and promo["customer"] != customer_id:
        raise InvalidRequestError(f"This promotion code cannot be used: {code} belongs to "
                                  "another customer.", code="promotion_code_invalid",
                                  param=param)
    rules = promo["restrictions"]
    if rules["first_time_transaction"] and customer_id and _has_paid_before(ctx, customer_id):
        raise InvalidRequestError(f"This promotion code cannot be used: {code} is for first-time "
                                  "customers only.", code="promotion_code_invalid", param=param)
    minimum = rules.get("minimum_amount")
    if minimum is not None and amount is not None and (
            currency != rules["minimum_amount_currency"] or amount < int(minimum)):
        raise InvalidRequestError(
            f"This promotion code cannot be used: {code} needs an order of at least {minimum} "
            f"{str(rules['minimum_amount_currency']).upper()}.", code="promotion_code_invalid",
            param=param)
    coupon = ctx.store.require("coupon", promo["promotion"]["coupon"], param=param)
    check_coupon(coupon, at=at, currency=currency, param=param)
    return coupon


def resolve(ctx: Ctx, raw: list[Any], *, param: str, customer_id: str | None,
            currency: str | None, amount: int | None, at: int,
            kept: list[str] | None = None) -> list[Redemption]:
    """`discounts[]` of a request: `{coupon}`, `{promotion_code}`, or `{discount}` (one the
    object already has, listed in `kept`). Checked, nothing redeemed yet."""
    found: list[Redemption] = []
    for index, entry in enumerate(raw):
        where = f"{param}[{index}]"
        if not isinstance(entry, dict) or len([k for k in entry if entry[k]]) != 1:
            raise InvalidRequestError("Each discount takes exactly one of `coupon`, "
                                      "`promotion_code` or `discount`.", param=where)
        if entry.get("discount"):
            existing = ctx.store.get("discount", str(entry["discount"]))
            if existing is None or existing["id"] not in (kept or []):
                raise InvalidRequestError(f"No such discount on this object: "
                                          f"'{entry['discount']}'", param=f"{where}[discount]")
            coupon = ctx.store.require("coupon", existing["source"]["coupon"])
            found.append((coupon, None, existing))
        elif entry.get("promotion_code"):
            promo = ctx.store.require("promotion_code", entry["promotion_code"],
                                      param=f"{where}[promotion_code]")
            coupon = check_promotion(ctx, promo, customer_id=customer_id, amount=amount,
                                     currency=currency, at=at, param=f"{where}[promotion_code]")
            found.append((coupon, promo, None))
        else:
            coupon = ctx.store.require("coupon", entry.get("coupon"), param=f"{where}[coupon]")
            check_coupon(coupon, at=at, currency=currency, param=f"{where}[coupon]")
            found.append((coupon, None, None))
    coupons = [c["id"] for c, _, _ in found]
    if len(set(coupons)) != len(coupons):
        raise InvalidRequestError("The same coupon cannot be applied twice.", param=param)
    return found


def redeem(ctx: Ctx, coupon: dict[str, Any], promo: dict[str, Any] | None, *,
           customer_id: str | None, at: int, subscription_id: str | None = None,
           checkout_session: str | None = None) -> dict[str, Any]:
    """Store the discount and count the redemption; the caller announces it."""
    months = int(coupon.get("duration_in_months") or 0)
    end = boundary(at, "month", 1, months) if coupon["duration"] == "repeating" else None
    discount = {
        "id": new_id("di"), "object": "discount", "checkout_session": checkout_session,
        "customer": customer_id, "customer_account": None, "end": end, "invoice": None,
        "invoice_item": None, "promotion_code": promo["id"] if promo else None,
        "source": {"coupon": coupon["id"], "type": "coupon"}, "start": at,
        "subscription": subscription_id, "subscription_item": None,
    }
    ctx.store.insert(discount)
    for counted in (coupon, promo):
        if counted is not None:
            counted["times_redeemed"] = int(counted["times_redeemed"]) + 1
    limit = coupon.get("max_redemptions")
    if limit is not None and int(coupon["times_redeemed"]) >= int(limit):
        coupon["valid"] = False
    ctx.store.touch()
    return discount


def remove(ctx: Ctx, sub: dict[str, Any], discount_id: str) -> None:
    """Take a discount off a subscription (its invoices keep showing it)."""
    sub["discounts"] = [d for d in sub["discounts"] if d != discount_id]
    discount = ctx.store.get("discount", discount_id)
    ctx.store.touch()
    if discount is not None:
        ctx.emit("customer.discount.deleted", discount)


def active_on(ctx: Ctx, sub: dict[str, Any], at: int) -> list[dict[str, Any]]:
    found = []
    for discount_id in sub.get("discounts") or []:
        discount = ctx.store.get("discount", discount_id)
        if discount is not None and (discount["end"] is None or int(discount["end"]) > at):
            found.append(discount)
    return found


def attach_to_invoice(ctx: Ctx, invoice: dict[str, Any], sub: dict[str, Any], at: int) -> None:
    """A subscription invoice carries the subscription's discounts in force at `at`."""
    rules = []
    for discount in active_on(ctx, sub, at):
        coupon = ctx.store.get("coupon", discount["source"]["coupon"])
        if coupon is not None:
            rules.append(rule_for(discount["id"], coupon))
    invoice["discounts"] = [rule["discount"] for rule in rules]
    invoice["_discount_rules"] = rules


def consume_once(ctx: Ctx, invoice: dict[str, Any], sub: dict[str, Any] | None) -> None:
    """After finalization: a `once` discount that lowered this invoice is used up."""
    if sub is None:
        return
    for entry in invoice.get("total_discount_amounts") or []:
        discount = ctx.store.get("discount", str(entry["discount"]))
        if discount is None or entry["amount"] <= 0 or discount["id"] not in sub["discounts"]:
            continue
        coupon = ctx.store.get("coupon", discount["source"]["coupon"])
        if coupon is not None and coupon["duration"] == "once":
            remove(ctx, sub, discount["id"])


def expiry_due(ctx: Ctx, sub: dict[str, Any]) -> list[tuple[int, str]]:
    """(end, discount id) of the subscription's repeating discounts."""
    due = []
    for discount_id in sub.get("discounts") or []:
        discount = ctx.store.get("discount", discount_id)
        if discount is not None and discount["end"] is not None:
            due.append((int(discount["end"]), discount_id))
    return due


def discounted(amounts: list[tuple[int, str | None]], redemptions: list[Redemption],
               currency: str) -> int:
    """What (amount, product) lines come to once `redemptions` apply (before redeeming them)."""
    lines = [{"amount": amount, "discountable": True,
              "pricing": {"price_details": {"product": product}}} for amount, product in amounts]
    rules = [rule_for(f"pending_{index}", coupon)
             for index, (coupon, _, _) in enumerate(redemptions)]
    return sum(a for a, _ in amounts) - sum(apply_rules(lines, rules, currency))


def set_on_subscription(ctx: Ctx, sub: dict[str, Any], redemptions: list[Redemption],
                        at: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Make `sub.discounts` what `redemptions` say, redeeming the new ones. Returns (created
    discounts, removed discount ids) for the caller to announce once the subscription is."""
    ids: list[str] = []
    created: list[dict[str, Any]] = []
    for coupon, promo, existing in redemptions:
        if existing is None:
            existing = redeem(ctx, coupon, promo, customer_id=sub["customer"], at=at,
                              subscription_id=sub["id"])
            created.append(existing)
        ids.append(existing["id"])
    removed = [d for d in sub.get("discounts") or [] if d not in ids]
    sub["discounts"] = ids
    return created, removed


def announce(ctx: Ctx, created: list[dict[str, Any]], removed: list[str]) -> None:
    for discount in created:
        ctx.emit("customer.discount.created", discount)
    for discount_id in removed:
        gone = ctx.store.get("discount", discount_id)
        if gone is not None:
            ctx.emit("customer.discount.deleted", gone)
