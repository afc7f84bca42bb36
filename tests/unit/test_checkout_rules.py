"""Checkout's pure rules: what is bought and how, where the browser may return, and the order states."""

from __future__ import annotations

from pathlib import Path

import pytest

from coinslot.catalog.parser import load_catalog
from coinslot.checkout import core
from coinslot.checkout.core import ItemRequest
from coinslot.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from coinslot.urls import check_redirect_url, with_checkout_params

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
PATCH_HIVE = load_catalog(EXAMPLES / "patch_hive.toml")
SKINOVA = load_catalog(EXAMPLES / "skinova.toml")
QUANTI = load_catalog(EXAMPLES / "quantipackai.toml")
ALLOWED = ["https://app.example.com", "http://localhost:5000"]


def test_a_plan_is_a_subscription_with_its_catalog_options() -> None:
    item = core.resolve_item(QUANTI, ItemRequest(plan="professional", interval="year"))
    assert (item.mode, item.quantity, item.amount_total_minor) == ("subscription", 1, 99000)
    assert item.price.lookup_key == "coinslot:plan:professional:year"
    assert item.trial_days == 7
    assert item.metadata_item == "plan:professional"


def test_the_interval_defaults_to_monthly() -> None:
    assert core.resolve_item(PATCH_HIVE, ItemRequest(plan="pro")).ref.interval == "month"


def test_a_one_time_product_is_a_payment() -> None:
    item = core.resolve_item(SKINOVA, ItemRequest(product="consultation"))
    assert (item.mode, item.amount_total_minor) == ("payment", 4900)


def test_a_one_time_price_sent_as_a_subscription_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        core.resolve_item(SKINOVA, ItemRequest(product="consultation", mode="subscription"))
    assert caught.value.field == "mode"
    assert "one-time price" in caught.value.message
    with pytest.raises(InvalidInput):
        core.resolve_item(
            SKINOVA, ItemRequest(lookup_key="coinslot:product:consultation", mode="subscription")
        )


def test_unknown_items_are_not_found_and_naming_two_is_invalid() -> None:
    with pytest.raises(NotFound):
        core.resolve_item(PATCH_HIVE, ItemRequest(plan="platinum"))
    with pytest.raises(NotFound):
        core.resolve_item(PATCH_HIVE, ItemRequest(lookup_key="price_from_a_dashboard"))
    with pytest.raises(InvalidInput):
        core.resolve_item(PATCH_HIVE, ItemRequest(plan="pro", pack="credits"))
    with pytest.raises(InvalidInput):
        core.resolve_item(PATCH_HIVE, ItemRequest(plan="pro", interval="year"))
    with pytest.raises(InvalidInput):
        core.resolve_item(PATCH_HIVE, ItemRequest(plan="free"))


@pytest.mark.parametrize("quantity", [0, -3])
def test_zero_or_negative_quantity_is_refused(quantity: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        core.resolve_item(PATCH_HIVE, ItemRequest(pack="credits", quantity=quantity))
    assert caught.value.field == "quantity"


def test_patch_hive_credits_below_the_five_dollar_minimum_name_the_minimum() -> None:
    with pytest.raises(InvalidInput) as caught:
        core.resolve_item(PATCH_HIVE, ItemRequest(pack="credits", quantity=24))
    assert caught.value.message == (
        "24 credits cost $4.80, below the minimum of $5.00: buy at least 25 credits"
    )
    item = core.resolve_item(PATCH_HIVE, ItemRequest(pack="credits", quantity=25))
    assert (item.mode, item.quantity, item.amount_total_minor) == ("payment", 25, 500)
    assert core.pack_credits(PATCH_HIVE, "credits", 25) == 25


def test_a_fixed_pack_grants_its_bundle_per_unit() -> None:
    assert core.pack_credits(QUANTI, "tokens_25", 2) == 50


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/billing",
        "https://app.example.com.evil.net/",
        "https://user@app.example.com/",
        "javascript:alert(1)",
        "/relative/path",
        "http://app.example.com/",  # the scheme is part of the origin
        "http://[::1",  # malformed: urlsplit raises ValueError
        "https://app.example.com:99999/",  # a port out of range
    ],
)
def test_return_urls_outside_the_allow_list_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_redirect_url(url, allowed_origins=ALLOWED, field="success_url")
    assert caught.value.field == "success_url"


def test_return_urls_of_allowed_origins_carry_the_status_and_session_id() -> None:
    url = check_redirect_url(
        "https://app.example.com/billing?tab=plan#top", allowed_origins=ALLOWED, field="success_url"
    )
    assert with_checkout_params(url, status="success") == (
        "https://app.example.com/billing?tab=plan&checkout_status=success&session_id={CHECKOUT_SESSION_ID}#top"
    )
    assert with_checkout_params("http://localhost:5000/pricing", status="cancel") == (
        "http://localhost:5000/pricing?checkout_status=cancel"
    )


def test_order_state_machine() -> None:
    assert core.next_order_status("draft", "paid") == "paid"
    assert core.next_order_status("paid", "fulfilled") == "fulfilled"
    assert core.next_order_status("draft", "canceled") == "canceled"
    assert core.next_order_status("paid", "canceled") == "canceled"
    for current, target in [
        ("draft", "fulfilled"),
        ("fulfilled", "canceled"),
        ("canceled", "paid"),
        ("fulfilled", "draft"),
    ]:
        with pytest.raises(Conflict):
            core.next_order_status(current, target)
    with pytest.raises(InvalidInput):
        core.next_order_status("draft", "shipped")


def test_order_payloads_are_bounded_in_bytes() -> None:
    payload = {"notes": "é" * 10}
    size = core.check_payload_size(payload, max_bytes=100)
    assert size == len('{"notes":""}') + 20
    with pytest.raises(PayloadTooLarge) as caught:
        core.check_payload_size({"notes": "x" * 200}, max_bytes=100)
    assert caught.value.http_status == 413
