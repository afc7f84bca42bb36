"""Which event payloads stand for a re-read: only objects in a final state, seen whole."""

from __future__ import annotations

from typing import Any

from coinslot.webhooks.settled import settled_objects


def invoice(status: str, *, has_more: bool = False) -> dict[str, Any]:
    return {"id": "in_1", "object": "invoice", "status": status,
            "lines": {"object": "list", "data": [], "has_more": has_more}}


def subscription(status: str, discounts: list[Any] | None = None) -> dict[str, Any]:
    return {"id": "sub_1", "object": "subscription", "status": status, "customer": "cus_1",
            "items": {"object": "list", "data": [], "has_more": False}, "discounts": discounts or []}


def test_a_paid_invoice_seen_whole_is_final() -> None:
    [found] = settled_objects(invoice("paid"))
    assert (found.kind, found.object_id) == ("invoice", "in_1")


def test_an_invoice_that_may_still_change_or_is_seen_in_part_is_read_again() -> None:
    for status in ("draft", "open", "uncollectible", "void"):
        assert settled_objects(invoice(status)) == []
    assert settled_objects(invoice("paid", has_more=True)) == []


def test_a_canceled_or_expired_subscription_is_final() -> None:
    for status in ("canceled", "incomplete_expired"):
        [found] = settled_objects(subscription(status))
        assert (found.kind, found.object_id) == ("subscription", "sub_1")


def test_a_live_subscription_or_one_whose_discount_terms_are_unknown_is_read_again() -> None:
    for status in ("active", "trialing", "past_due", "unpaid", "paused", "incomplete"):
        assert settled_objects(subscription(status)) == []
    assert settled_objects(subscription("canceled", discounts=["di_1"])) == []


def checkout(status: str = "complete", *, mode: str = "subscription", payment_status: str = "paid",
             item: str | None = "plan:pro") -> dict[str, Any]:
    metadata = {"coinslot_user_id": "ada", **({"coinslot_item": item} if item is not None else {})}
    return {"id": "cs_1", "object": "checkout.session", "status": status, "mode": mode,
            "payment_status": payment_status, "metadata": metadata}


def test_a_completed_checkout_that_sold_a_plan_is_final() -> None:
    for payment_status in ("paid", "no_payment_required"):
        [found] = settled_objects(checkout(payment_status=payment_status))
        assert (found.kind, found.object_id) == ("checkout_session", "cs_1")


def test_a_checkout_still_open_unpaid_of_a_pack_or_naming_no_plan_is_read_again() -> None:
    assert settled_objects(checkout("open")) == []
    assert settled_objects(checkout("expired")) == []
    assert settled_objects(checkout(payment_status="unpaid")) == []  # an asynchronous payment to settle
    assert settled_objects(checkout(mode="payment", item="pack:small")) == []  # its quantity: line items
    assert settled_objects(checkout(item="pack:small")) == []
    assert settled_objects(checkout(item=None)) == []  # the plan is found from the line items
    assert settled_objects(checkout(mode="setup", item=None)) == []


def test_other_objects_are_always_read() -> None:
    assert settled_objects({"id": "ch_1", "object": "charge", "status": "succeeded"}) == []
    assert settled_objects({"object": "invoice", "status": "paid"}) == []
