"""How much of a credit pack each refund takes back: `ledger.core.refunded_credits`."""

from __future__ import annotations

from coinslot.ledger.core import refunded_credits
from coinslot.stripe_gateway.charges import StripeRefundData


def refunds(*amounts: int, status: str = "succeeded") -> tuple[StripeRefundData, ...]:
    return tuple(
        StripeRefundData(f"re_{n}", amount, status, 1_800_000_000 + n) for n, amount in enumerate(amounts)
    )


def test_a_full_refund_takes_all_that_is_left() -> None:
    assert refunded_credits(pack_credits=30, charge_amount_minor=600, refunds=refunds(600)) == [
        ("re_0", None)
    ]


def test_partial_refunds_take_their_share_rounded_down_on_the_running_total() -> None:
    shares = refunded_credits(pack_credits=30, charge_amount_minor=600, refunds=refunds(100, 150))
    assert shares == [("re_0", 5), ("re_1", 7)]  # 5, then 12 of 12.5 in all


def test_three_thirds_take_exactly_the_pack() -> None:
    shares = refunded_credits(pack_credits=10, charge_amount_minor=900, refunds=refunds(300, 300, 300))
    assert shares == [("re_0", 3), ("re_1", 3), ("re_2", None)]


def test_a_refund_worth_less_than_a_credit_takes_nothing_until_the_total_makes_one() -> None:
    shares = refunded_credits(pack_credits=30, charge_amount_minor=600, refunds=refunds(10, 10))
    assert shares == [("re_1", 1)]


def test_failed_and_canceled_refunds_take_nothing() -> None:
    failed = refunds(600, status="failed") + refunds(600, status="canceled")
    assert refunded_credits(pack_credits=30, charge_amount_minor=600, refunds=failed) == []
