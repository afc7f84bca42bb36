"""Every expandable field of every resource stripesim serves, expanded one by one.

After the fidelity walk's story has made one of everything, each field that
Stripe's descriptions (`tests/stripesim/expandable.py`) call expandable is
asked for with `expand[]` on an object that has it set, in the current
version and in 2024-04-10. A refused expansion fails, and so does a silent
one: an id left as an id although stripesim holds its object, or an
includable field still absent after expanding it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.stripesim.billing_helpers import T0
from tests.stripesim.conftest import API_KEY, SimHelper
from tests.stripesim.expandable import Expandable, paths_for
from tests.stripesim.receiver import WebhookReceiver
from tests.stripesim.test_fidelity_walk import Walker, walk_story

# How to read one object of each served type; `{id}` and, for list-only types, the list it sits in.
RETRIEVE = {
    "account": "/v1/account",
    "billing.meter": "/v1/billing/meters/{id}",
    "coupon": "/v1/coupons/{id}",
    "credit_note": "/v1/credit_notes/{id}",
    "promotion_code": "/v1/promotion_codes/{id}",
    "balance_transaction": "/v1/balance_transactions/{id}",
    "billing_portal.configuration": "/v1/billing_portal/configurations/{id}",
    "charge": "/v1/charges/{id}",
    "checkout.session": "/v1/checkout/sessions/{id}",
    "customer": "/v1/customers/{id}",
    "event": "/v1/events/{id}",
    "invoice": "/v1/invoices/{id}",
    "invoice_payment": "/v1/invoice_payments/{id}",
    "invoiceitem": "/v1/invoiceitems/{id}",
    "payment_intent": "/v1/payment_intents/{id}",
    "payment_method": "/v1/payment_methods/{id}",
    "price": "/v1/prices/{id}",
    "product": "/v1/products/{id}",
    "refund": "/v1/refunds/{id}",
    "setup_intent": "/v1/setup_intents/{id}",
    "subscription": "/v1/subscriptions/{id}",
    "subscription_item": "/v1/subscription_items/{id}",
    "test_helpers.test_clock": "/v1/test_helpers/test_clocks/{id}",
    "webhook_endpoint": "/v1/webhook_endpoints/{id}",
}
# Objects read only through a list: (list path, filter parameter or None, field naming the parent).
IN_LISTS = {
    "line_item": ("/v1/invoices/{parent}/lines", None, "invoice"),
    "setup_attempt": ("/v1/setup_attempts", "setup_intent", "setup_intent"),
    "item": ("/v1/checkout/sessions/{parent}/line_items", None, "_session"),
    "customer_balance_transaction": ("/v1/customers/{parent}/balance_transactions", None,
                                     "customer"),
    "credit_note_line_item": ("/v1/credit_notes/{parent}/lines", None, "_credit_note"),
}
# Fields the walk story must have set (and so really expanded) somewhere: the ones clients need.
MUST_EXPAND = {
    ("charge", "balance_transaction"), ("refund", "balance_transaction"),
    ("charge", "customer"), ("charge", "payment_intent"), ("refund", "charge"),
    ("checkout.session", "total_details.breakdown"), ("checkout.session", "line_items"),
    ("checkout.session", "subscription"), ("checkout.session", "payment_intent"),
    ("price", "currency_options"), ("price", "product"), ("invoice", "confirmation_secret"),
    ("invoice", "payments"), ("subscription", "latest_invoice"), ("subscription", "customer"),
    ("customer", "invoice_settings.default_payment_method"), ("customer", "test_clock"),
    ("balance_transaction", "source"), ("payment_intent", "latest_charge"),
}
MUST_EXPAND_2024 = {("invoice", "payment_intent"), ("invoice", "subscription"),
                    ("invoice", "charge"), ("charge", "invoice")}


@dataclass
class Outcome:
    expanded: set[tuple[str, str]] = field(default_factory=set)
    null_everywhere: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _at(node: Any, path: str) -> tuple[bool, Any]:
    """(present, value) of a dotted path inside `node`."""
    for name in path.split("."):
        if not isinstance(node, dict) or name not in node:
            return False, None
        node = node[name]
    return True, node


def _stored_id(store: Any, value: Any) -> bool:
    return isinstance(value, str) and store.find(value) is not None


def _samples(sim: SimHelper, object_type: str) -> list[dict[str, Any]]:
    from stripesim.resources.account import account

    if object_type == "account":
        return [account()]
    store = sim.engine.store
    with store.lock:
        # Lines and items live inside their invoice or subscription.
        if object_type == "line_item":
            return [dict(line) for invoice in store.all("invoice") if not invoice.get("deleted")
                    for line in invoice["lines"]["data"]]
        if object_type == "credit_note_line_item":
            return [{**dict(line), "_credit_note": note["id"]} for note in
                    store.all("credit_note") for line in note["lines"]["data"]]
        if object_type == "item":  # a Checkout line item, read through its session
            return [{**dict(item), "_session": session["id"]} for session in
                    store.all("checkout.session") for item in session.get("_line_items") or []]
        if object_type == "subscription_item":
            return [dict(item) for sub in store.all("subscription")
                    for item in sub["items"]["data"]]
        found = [dict(o) for o in store.all(object_type) if not o.get("deleted")]
        if object_type in IN_LISTS:  # read through a parent that must still be there
            parent_field = IN_LISTS[object_type][2]
            found = [o for o in found if not (store.find(str(o.get(parent_field))) or
                                              {"deleted": True}).get("deleted")]
        return found


def _get(http: httpx.Client, object_type: str, sample: dict[str, Any], path: str | None) -> httpx.Response:
    params = {"expand[]": path} if path else {}
    if object_type in IN_LISTS:
        list_path, filter_param, parent_field = IN_LISTS[object_type]
        params = {"expand[]": f"data.{path}"} if path else {}
        params["limit"] = "100"
        if filter_param:
            params[filter_param] = sample[parent_field]
        return http.get(list_path.format(parent=sample[parent_field]), params=params)
    return http.get(RETRIEVE[object_type].format(id=sample.get("id")), params=params)


def _one(response: httpx.Response, object_type: str, sample: dict[str, Any]) -> Any:
    body = response.json()
    if object_type in IN_LISTS:
        return next((o for o in body["data"] if o["id"] == sample["id"]), None)
    return body


def _check_path(sim: SimHelper, http: httpx.Client, object_type: str, entry: Expandable,
                outcome: Outcome) -> None:
    if object_type in IN_LISTS and entry.path.count(".") >= 3:
        return  # `data.` + 4 levels is past Stripe's depth limit (refused there too)
    samples = _samples(sim, object_type)
    # An object with the field set if there is one (else with its top-level part set).
    top = entry.path.split(".")[0]
    chosen = next((s for s in samples if _at(s, entry.path)[1] not in (None, [], {})),
                  next((s for s in samples if s.get(top) not in (None, [], {})), samples[0]))
    plain = _one(_get(http, object_type, chosen, None), object_type, chosen)
    response = _get(http, object_type, chosen, entry.path)
    label = f"{object_type}.{entry.path}"
    if response.status_code != 200:
        outcome.problems.append(f"{label}: refused ({response.status_code}): "
                                f"{response.json()['error']['message']}")
        return
    expanded = _one(response, object_type, chosen)
    was_there, before = _at(plain, entry.path)
    parent_there, parent = (_at(plain, entry.path.rpartition(".")[0]) if "." in entry.path
                            else (True, plain))
    is_there, after = _at(expanded, entry.path)
    if entry.kind == "includable":
        if not is_there:
            outcome.problems.append(f"{label}: not included after expanding it")
        elif after is None:
            outcome.null_everywhere.add((object_type, entry.path))
        else:
            outcome.expanded.add((object_type, entry.path))
        return
    if not parent_there or parent is None or not was_there or before is None:
        # Null, or an optional hash this object does not have: nothing to expand here.
        outcome.null_everywhere.add((object_type, entry.path))
        return
    if _stored_id(sim.engine.store, before) and not isinstance(after, dict):
        outcome.problems.append(f"{label}: id {before} left unexpanded")
    elif isinstance(before, list) and any(_stored_id(sim.engine.store, v) for v in before) and \
            not all(isinstance(v, dict) for v in after):
        outcome.problems.append(f"{label}: ids left unexpanded")
    else:
        outcome.expanded.add((object_type, entry.path))


def _walk_all(sim: SimHelper, version: str | None) -> Outcome:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if version:
        headers["Stripe-Version"] = version
    outcome = Outcome()
    with httpx.Client(base_url=sim.url, headers=headers, timeout=30) as http:
        for object_type in sorted({*RETRIEVE, *IN_LISTS}):
            if not _samples(sim, object_type):
                outcome.problems.append(f"{object_type}: the story made none")
                continue
            for entry in paths_for(object_type, version_2024=version == "2024-04-10"):
                _check_path(sim, http, object_type, entry, outcome)
    return outcome


def _story(sim: SimHelper, receiver: WebhookReceiver) -> None:
    walk_story(sim, receiver, Walker(lambda data, where=None: None))
    v1 = sim.client.v1
    v1.prices.create(params={"currency": "usd", "unit_amount": 1000,
                             "currency_options": {"eur": {"unit_amount": 900}},
                             "product_data": {"name": "Worldwide"}})
    clock = v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer = v1.customers.create(params={
        "email": "open@example.com", "payment_method": "pm_card_visa", "test_clock": clock.id,
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    price = v1.prices.create(params={"currency": "usd", "unit_amount": 700,
                                     "recurring": {"interval": "month"},
                                     "product_data": {"name": "Incomplete"}})
    v1.coupons.create(params={"percent_off": 10, "duration": "once",
                              "applies_to": {"products": [price.product]}})
    v1.customers.balance_transactions.create(customer.id, params={"amount": -500,
                                                                  "currency": "usd"})
    # An open first invoice whose payment a page would collect (confirmation_secret).
    v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}],
                                    "payment_behavior": "default_incomplete"})


@pytest.mark.parametrize("version", [None, "2024-04-10"])
def test_every_expandable_field_expands(sim: SimHelper, receiver: WebhookReceiver,
                                        version: str | None) -> None:
    _story(sim, receiver)
    outcome = _walk_all(sim, version)
    assert not outcome.problems, "\n".join(outcome.problems)
    must = MUST_EXPAND if version is None else {
        *(m for m in MUST_EXPAND if m[1] not in {"payments", "confirmation_secret"}),
        *MUST_EXPAND_2024}
    assert not must - outcome.expanded, sorted(must - outcome.expanded)
    print(f"\n{len(outcome.expanded)} fields expanded, {len(outcome.null_everywhere)} null "
          f"in the story: {sorted(outcome.null_everywhere)}")
