"""What the Checkout page's order summary says, built from the session object alone.

Everything shown is read from the session as the API would return it: line
items, `amount_subtotal` / `amount_total`, `total_details` (discount, tax,
shipping), `discounts`, `mode`, the trial in `subscription_data`. So a discount
line appears as soon as the engine fills `total_details.amount_discount`, and a
setup-mode session shows no amounts at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..money import format_minor
from ..store import Store
from .render import billed_text, format_date, recurring_text

__all__ = ["LineView", "SummaryView", "submit_label", "summary"]

DAY_S = 86_400


@dataclass(frozen=True)
class LineView:
    name: str
    quantity: int
    unit_amount: str  # "$14.99"
    amount: str  # quantity × unit, before discounts: "$29.98"
    billed: str  # "Billed monthly", "" for one-time
    note: str  # "7 days free", ""


@dataclass(frozen=True)
class SummaryView:
    heading: str  # "Subscribe to Pro", "Pay stripesim", "Set up a payment method"
    amount: str  # the big figure: "$14.99", "7 days free", ""
    amount_suffix: str  # "per month", ""
    then: str  # "Then $14.99 per month starting January 8, 2026", ""
    lines: list[LineView]
    rows: list[tuple[str, str]] = field(default_factory=list)  # subtotal, discounts, tax
    total_label: str = "Total due today"
    total: str = ""
    total_minor: int = 0


def _money(amount: int, session: dict[str, Any]) -> str:
    return format_minor(amount, str(session["currency"]))


def _discount_label(store: Store, discount: dict[str, Any]) -> str:
    """"SUMMER (25% off)" from a session's `discounts[]` entry, when its objects are stored."""
    promo = store.get("promotion_code", str(discount.get("promotion_code")))
    coupon_id = discount.get("coupon") or (promo or {}).get("coupon")
    if isinstance(coupon_id, dict):
        coupon_id = coupon_id.get("id")
    coupon = store.get("coupon", str(coupon_id)) or {}
    name = (promo or {}).get("code") or coupon.get("name") or "Discount"
    if coupon.get("percent_off"):
        return f"{name} ({coupon['percent_off']:g}% off)"
    return str(name)


def _discount_rows(store: Store, session: dict[str, Any]) -> list[tuple[str, str]]:
    amount = int((session.get("total_details") or {}).get("amount_discount") or 0)
    if amount <= 0:
        return []
    labels = [_discount_label(store, d) for d in session.get("discounts") or []]
    return [(", ".join(labels) or "Discount", _money(-amount, session))]


def _trial_days(session: dict[str, Any]) -> int:
    if session["mode"] != "subscription":
        return 0
    return int((session.get("_subscription_data") or {}).get("trial_period_days") or 0)


def summary(store: Store, session: dict[str, Any], *, business: str) -> SummaryView:
    """The left column of the Checkout page."""
    if session["mode"] == "setup":
        return SummaryView(heading=f"Set up a payment method with {business}", amount="",
                           amount_suffix="", then="", lines=[], total="")
    items: list[dict[str, Any]] = list(session["_line_items"])
    trial = _trial_days(session)
    lines = [_line(item, trial) for item in items]
    recurring = [i for i in items if i["price"].get("recurring")]
    recurring_minor = sum(int(i["amount_total"]) for i in recurring)
    per = recurring_text(recurring[0]["price"]["recurring"]) if recurring else ""
    # During a trial only the one-time items are due now; Stripe's session says the same
    # (amount_total 0 for a trial alone), whichever way the engine fills it.
    due_minor = (sum(int(i["amount_total"]) for i in items if not i["price"].get("recurring"))
                 if trial else int(session["amount_total"]))
    rows = [("Subtotal", _money(int(session["amount_subtotal"]), session))]
    rows += _discount_rows(store, session)
    details = session.get("total_details") or {}
    if int(details.get("amount_shipping") or 0):
        rows.append(("Shipping", _money(int(details["amount_shipping"]), session)))
    if int(details.get("amount_tax") or 0) or (session.get("automatic_tax") or {}).get("enabled"):
        rows.append(("Tax", _money(int(details.get("amount_tax") or 0), session)))
    if trial:
        rows.append(("Total after trial", _money(recurring_minor, session)))
    total = _money(due_minor, session)
    if session["mode"] != "subscription":
        return SummaryView(heading=f"Pay {business}", amount=total, amount_suffix="", then="",
                           lines=lines, rows=rows, total=total, total_minor=due_minor)
    first = str(items[0].get("description") or business)
    recurring_money = _money(recurring_minor, session)
    if trial:
        start = store.now_for_clock(session.get("_clock")) + trial * DAY_S
        big, suffix = f"{trial} days free", ""
        then = f"Then {recurring_money} {per} starting {format_date(start)}"
    elif len(recurring) == len(items):
        big, suffix, then = total, per, ""
    else:  # one-time items ride on the first invoice only
        big, suffix, then = total, "", f"Then {recurring_money} {per}"
    heading = (f"Try {first}" if trial else
               f"Subscribe to {first}" if len(items) == 1 else f"Subscribe to {business}")
    return SummaryView(heading=heading, amount=big, amount_suffix=suffix, then=then,
                       lines=lines, rows=rows, total=total, total_minor=due_minor)


def _line(item: dict[str, Any], trial_days: int) -> LineView:
    price = item["price"]
    currency = str(item["currency"])
    recurring = price.get("recurring")
    return LineView(
        name=str(item.get("description") or "Item"), quantity=int(item.get("quantity") or 1),
        unit_amount=format_minor(int(price.get("unit_amount") or 0), currency),
        amount=format_minor(int(item["amount_subtotal"]), currency),
        billed=billed_text(recurring),
        note=f"{trial_days} days free" if trial_days and recurring else "")


def submit_label(session: dict[str, Any]) -> str:
    """The button: "Subscribe", "Start trial", "Pay", "Save card" (setup), as Stripe words it."""
    if session["mode"] == "setup":
        return "Save card"
    if session["mode"] == "subscription":
        return "Start trial" if _trial_days(session) else "Subscribe"
    return {"book": "Book", "donate": "Donate"}.get(str(session.get("submit_type")), "Pay")
