"""`POST /_sim/fixtures/existing_account`: a Stripe account as it looks when it adopts a
billing layer: a catalog (monthly and yearly plans, per-seat prices, an add-on, a retired
price still billed, a custom price nobody mapped), `count` customers with cards, linked to
host users by `metadata[host_user_id]` (most of them), on subscriptions with quantities,
add-ons, discounts, trials, cancellations.

The same `seed` gives the same account: names, emails, host ids, plans, quantities,
discounts, states and start times (ids are Stripe-like random ids). With `frozen_time` the
customers share a new test clock whose history starts `history_months` earlier: each
subscription starts at its own moment and has renewed (invoices paid) up to `frozen_time`.
The objects send no events (they predate the integration) unless `events: true`.

Body: `{"seed": 7, "count": 200, "frozen_time": 1767225600, "history_months": 3,
"host_prefix": "user_", "events": false}`; answers a manifest of what was made.
"""

from __future__ import annotations

import random
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from . import clock as clocks
from . import events
from .billing.periods import boundary
from .errors import InvalidRequestError
from .params import get_bool, get_int, get_str
from .resources import coupons, customers, prices, product_objects, subscriptions, test_clocks
from .routing import Call, Router
from .store import TEST_CLOCK_TYPE

__all__ = ["control_router"]

control_router = Router()

# lookup key -> (product, unit amount in cents, interval); all in usd.
PLANS = {
    "starter_monthly": ("Starter", 900, "month"), "starter_yearly": ("Starter", 9000, "year"),
    "pro_monthly": ("Pro", 2900, "month"), "pro_yearly": ("Pro", 29000, "year"),
    "team_seat_monthly": ("Team", 1500, "month"), "team_seat_yearly": ("Team", 15000, "year"),
}
ADDON = ("extra_tokens_monthly", "Extra tokens", 500, "month")
# A price the account retired (inactive) but still bills, and one it made by hand.
LEGACY = ("pro_monthly_2024", "Pro", 2500, "month")
CUSTOM = (None, "Enterprise (custom)", 9900, "month")
_WEIGHTS = {"starter_monthly": 25, "starter_yearly": 8, "pro_monthly": 25, "pro_yearly": 10,
            "team_seat_monthly": 12, "team_seat_yearly": 5, "legacy": 8, "custom": 4}
COUPONS = {"LAUNCH20": {"percent_off": "20", "duration": "forever", "name": "Launch 20%"},
           "FRIENDS5": {"amount_off": "500", "currency": "usd", "duration": "repeating",
                        "duration_in_months": "6", "name": "Friends $5 off"}}
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia",
          "Tim", "Margaret", "John", "Sophie", "Linus", "Karen", "Dennis")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
         "Perlman", "Lee", "Hamilton", "Backus", "Wilson", "Torvalds", "Jones", "Ritchie")


@dataclass
class Plan:
    """What one customer of the fixture has, decided from the seed before anything is made."""

    index: int
    name: str
    email: str
    host_user_id: str | None
    start_offset_s: int
    price_key: str | None  # None: a customer without a subscription
    quantity: int
    addon_quantity: int
    coupon: str | None
    state: str  # active | trialing | cancel_at_period_end | canceled


def _plans(rng: random.Random, count: int, span_s: int, host_prefix: str) -> list[Plan]:
    keys, weights = list(_WEIGHTS), list(_WEIGHTS.values())
    plans = []
    for index in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        has_sub = rng.random() >= 0.03
        key = rng.choices(keys, weights)[0] if has_sub else None
        monthly = key is not None and key not in ("custom",) and (
            key == "legacy" or PLANS[key][2] == "month")
        state_roll = rng.random()
        plans.append(Plan(
            index=index, name=f"{first} {last}",
            email=f"{first}.{last}.{index:04d}@example.com".lower(),
            host_user_id=f"{host_prefix}{index:04d}" if rng.random() < 0.9 else None,
            start_offset_s=rng.randrange(span_s) if span_s else 0, price_key=key,
            quantity=rng.randint(2, 25) if key and key.startswith("team") else 1,
            addon_quantity=rng.randint(1, 3) if monthly and rng.random() < 0.15 else 0,
            coupon=rng.choice(sorted(COUPONS)) if key and rng.random() < 0.1 else None,
            state=("trialing" if state_roll < 0.06 else "cancel_at_period_end"
                   if state_roll < 0.11 else "canceled" if state_roll < 0.16 else "active")))
    return plans


def _dict(result: Any) -> dict[str, Any]:
    """A handler's answer (handlers may answer (status, body); these all answer the body)."""
    assert isinstance(result, dict)
    return result


def _call(call: Call, path: str, params: dict[str, Any], path_params: dict[str, str] | None = None,
          method: str = "POST") -> Call:
    return Call(call.sim, method, path, params, path_params or {}, call.request_id, None, {})


def _price(call: Call, key: str | None, product: str, amount: int, interval: str) -> dict[str, Any]:
    """The catalog price with this lookup key, made (with its product) when missing."""
    for price in call.store.all("price"):
        if key is not None and price["lookup_key"] == key:
            return price
        if key is None and price["nickname"] == product:
            return price
    owner = next((p for p in call.store.all("product") if p.get("name") == product
                  and not p.get("deleted")), None)
    if owner is None:
        owner = product_objects.create_product(_call(call, "/v1/products", {}), {"name": product})
    params = {"currency": "usd", "unit_amount": str(amount), "product": owner["id"],
              "recurring": {"interval": interval}}
    if key:
        params["lookup_key"] = key
    else:
        params["nickname"] = product
    return prices.create_price(_call(call, "/v1/prices", params), params)


def _catalog(call: Call) -> dict[str, dict[str, Any]]:
    catalog = {key: _price(call, key, *spec) for key, spec in PLANS.items()}
    catalog[ADDON[0]] = _price(call, *ADDON)
    catalog["legacy"] = _price(call, *LEGACY)
    catalog["legacy"]["active"] = True  # retired again once its subscribers exist
    catalog["custom"] = _price(call, *CUSTOM)
    for coupon_id, spec in COUPONS.items():
        if call.store.get("coupon", coupon_id) is None:
            coupons.create(_call(call, "/v1/coupons", {"id": coupon_id, **spec}))
    return catalog


def _advance_to(call: Call, clock_id: str | None, when: int) -> None:
    clock = call.store.get(TEST_CLOCK_TYPE, clock_id) if clock_id else None
    if clock is None or int(clock["frozen_time"]) >= when:
        return
    clocks.begin_advance(call.sim, clock, when)
    clocks.advance_now(call.sim, clock["id"])


def _subscribe(call: Call, plan: Plan, customer: dict[str, Any],
               catalog: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert plan.price_key is not None
    items: list[dict[str, Any]] = [{"price": catalog[plan.price_key]["id"],
                                    "quantity": str(plan.quantity)}]
    if plan.addon_quantity:
        items.append({"price": catalog[ADDON[0]]["id"], "quantity": str(plan.addon_quantity)})
    params: dict[str, Any] = {"customer": customer["id"], "items": items,
                              "metadata": {"source": "existing_account"}}
    if plan.coupon:
        params["discounts"] = [{"coupon": plan.coupon}]
    if plan.state == "trialing":
        params["trial_period_days"] = "14"
    sub = _dict(subscriptions.create(_call(call, "/v1/subscriptions", params)))
    if plan.state == "canceled":
        subscriptions.cancel(_call(call, f"/v1/subscriptions/{sub['id']}", {},
                                   {"id": sub["id"]}, "DELETE"))
    return sub


def _make(call: Call, plan: Plan, catalog: dict[str, dict[str, Any]],
          clock_id: str | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    params: dict[str, Any] = {
        "name": plan.name, "email": plan.email, "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}}
    if plan.host_user_id:
        params["metadata"] = {"host_user_id": plan.host_user_id}
    if clock_id:
        params["test_clock"] = clock_id
    customer = _dict(customers.create(_call(call, "/v1/customers", params)))
    sub = _subscribe(call, plan, customer, catalog) if plan.price_key else None
    return customer, sub


def _manifest_entry(plan: Plan, customer: dict[str, Any],
                    sub: dict[str, Any] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": customer["id"], "email": plan.email, "name": plan.name,
                             "host_user_id": plan.host_user_id, "subscription": None}
    if sub is not None:
        entry["subscription"] = {
            "id": sub["id"], "status": sub["status"],
            "cancel_at_period_end": sub["cancel_at_period_end"], "coupon": plan.coupon,
            "items": [{"price": i["price"]["id"], "lookup_key": i["price"]["lookup_key"],
                       "quantity": i.get("quantity"), "unit_amount": i["price"]["unit_amount"],
                       "interval": i["price"]["recurring"]["interval"]}
                      for i in sub["items"]["data"]]}
    return entry


@control_router.post("/_sim/fixtures/existing_account", locked=False)
def existing_account(call: Call) -> dict[str, Any]:
    """A seeded existing account (catalog, customers linked to host users, subscriptions,
    history on a test clock); answers its manifest. The same seed, the same account."""
    params = call.params
    seed = get_int(params, "seed", 0) or 0
    count = get_int(params, "count", 25, minimum=1, maximum=1000) or 25
    frozen_time = get_int(params, "frozen_time")
    history = get_int(params, "history_months", 3 if frozen_time else 0, minimum=0, maximum=24)
    if history and frozen_time is None:
        raise InvalidRequestError("history_months needs frozen_time (a test clock).",
                                  param="history_months")
    host_prefix = get_str(params, "host_prefix", "user_") or ""
    start = boundary(frozen_time, "month", 1, -int(history or 0)) if frozen_time else 0
    plans = _plans(random.Random(seed), count, (frozen_time or 0) - start, host_prefix)
    quiet = not get_bool(params, "events", False)
    with call.store.lock, events.muted(call.sim) if quiet else nullcontext():
        clock_id = None
        if frozen_time is not None:
            clock_id = str(_dict(test_clocks.create(_call(call, "/v1/test_helpers/test_clocks", {
                "frozen_time": str(start), "name": f"existing account (seed {seed})"})))["id"])
        catalog = _catalog(call)
        made: dict[int, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        for plan in sorted(plans, key=lambda p: (p.start_offset_s, p.index)):
            _advance_to(call, clock_id, start + plan.start_offset_s)
            made[plan.index] = _make(call, plan, catalog, clock_id)
        if frozen_time is not None:
            _advance_to(call, clock_id, frozen_time)
        for plan in plans:  # decided now, so that they are still pending at `frozen_time`
            sub = made[plan.index][1]
            if plan.state == "cancel_at_period_end" and sub and sub["status"] == "active":
                subscriptions.update_subscription(_call(call, f"/v1/subscriptions/{sub['id']}",
                                                        {}), sub, {"cancel_at_period_end": "true"})
        catalog["legacy"]["active"] = False
        call.store.touch()
        customers = [_manifest_entry(plan, *made[plan.index]) for plan in plans]
    call.store.save()
    return {"object": "stripesim.fixture", "seed": seed, "count": count,
            "test_clock": clock_id, "frozen_time": frozen_time,
            "prices": {key: price["id"] for key, price in catalog.items()},
            "coupons": sorted(COUPONS), "customers": customers}
