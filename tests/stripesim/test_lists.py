"""Pagination, expand and search, driven through the SDK."""

from __future__ import annotations

import pytest
import stripe

from stripesim.errors import ParameterInvalid
from stripesim.search import parse_query
from tests.stripesim.conftest import SimHelper


def test_auto_paging_walks_every_customer_newest_first(sim: SimHelper) -> None:
    created = [sim.client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(25)]
    page = sim.client.v1.customers.list(params={"limit": 10})
    assert page.has_more
    assert page.url == "/v1/customers"
    walked = [c.id for c in page.auto_paging_iter()]
    assert walked == list(reversed(created))


def test_ending_before_pages_backwards(sim: SimHelper) -> None:
    created = [sim.client.v1.customers.create().id for _ in range(5)]
    newest_first = list(reversed(created))
    page = sim.client.v1.customers.list(params={"limit": 2, "ending_before": newest_first[3]})
    assert [c.id for c in page.data] == newest_first[1:3]
    assert page.has_more
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sim.client.v1.customers.list(params={"starting_after": "cus_unknown"})
    assert raised.value.param == "starting_after"


def test_created_filter(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    assert sim.client.v1.customers.list(params={"created": {"gte": customer.created}}).data
    assert not sim.client.v1.customers.list(params={"created": {"gt": customer.created}}).data


def test_expand_nested_and_list_paths(sim: SimHelper) -> None:
    price = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1,
                                                "product_data": {"name": "Pro"}})
    expanded = sim.client.v1.prices.retrieve(price.id, params={"expand": ["product"]})
    assert isinstance(expanded.product, stripe.Product)
    listed = sim.client.v1.prices.list(params={"expand": ["data.product"]})
    assert isinstance(listed.data[0].product, stripe.Product)
    customer = sim.client.v1.customers.create(params={
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    deep = sim.client.v1.customers.retrieve(customer.id, params={
        "expand": ["invoice_settings.default_payment_method.customer"]})
    pm = deep.invoice_settings.default_payment_method  # type: ignore[union-attr]
    assert isinstance(pm, stripe.PaymentMethod)
    assert isinstance(pm.customer, stripe.Customer)


def test_expand_errors(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    too_deep = sim.http.get(f"/v1/customers/{customer.id}", params={"expand[]": "a.b.c.d.e"})
    assert too_deep.status_code == 400
    assert too_deep.json()["error"]["param"] == "expand"
    unknown = sim.http.get(f"/v1/customers/{customer.id}", params={"expand[]": "nonsense"})
    assert unknown.status_code == 400


def test_search_customers(sim: SimHelper) -> None:
    ada = sim.client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada Lovelace",
                                                 "metadata": {"team": "math"}})
    grace = sim.client.v1.customers.create(params={"email": "grace@navy.mil", "name": "Grace",
                                                   "metadata": {"team": "navy"}})

    def found(query: str) -> list[str]:
        return [c.id for c in sim.client.v1.customers.search(params={"query": query}).data]

    assert found('email:"ADA@example.com"') == [ada.id]
    assert found("name~'Love'") == [ada.id]
    assert found('metadata["team"]:"navy"') == [grace.id]
    assert found('metadata["team"]:"navy" OR email:"ada@example.com"') == [grace.id, ada.id]
    assert found('metadata["team"]:"navy" AND email:"ada@example.com"') == []
    assert found(f"created>={ada.created} AND -name:'Grace'") == [ada.id]
    bad = sim.http.get("/v1/customers/search", params={"query": "email:'a' AND x:1 OR y:2"})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "query"


def test_search_pages_with_next_page(sim: SimHelper) -> None:
    ids = [sim.client.v1.products.create(params={"name": f"p{i}", "metadata": {"k": "v"}}).id
           for i in range(5)]
    first = sim.client.v1.products.search(params={"query": 'metadata["k"]:"v"', "limit": 2})
    assert first.object == "search_result"
    assert first.has_more
    assert first.next_page
    walked = [p.id for p in first.auto_paging_iter()]
    assert walked == list(reversed(ids))
    prices = sim.client.v1.prices.search(params={"query": "active:'true'"})
    assert prices.data == []


def test_query_parser_rules() -> None:
    join, clauses = parse_query('email:"a@b.c" AND metadata[\'k\']:"v"', {"email", "metadata"})
    assert join == "AND"
    assert clauses[1][1:3] == ("metadata", "k")
    for bad in ("email:'x' AND name:'y' OR phone:'z'", "email~'ab'", "color:'red'", "email"):
        with pytest.raises(ParameterInvalid):
            parse_query(bad, {"email", "name", "phone"})
