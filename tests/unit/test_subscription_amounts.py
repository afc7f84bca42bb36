"""What a subscription's discounts take off a billing period: Stripe's order and rounding, in minor units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from coinslot.subscriptions.core import period_discount_minor


@dataclass(frozen=True)
class Terms:
    percent_off: Decimal | None = None
    amount_off_minor: int | None = None
    currency: str | None = None


def test_a_percentage_rounds_half_up_on_the_period_amount() -> None:
    assert period_discount_minor(2900, [Terms(percent_off=Decimal("20"))], currency="usd") == 580
    # 12.5% of 1001 is 125.125: 125; of 1004 it is 125.5: 126.
    assert period_discount_minor(1001, [Terms(percent_off=Decimal("12.5"))], currency="usd") == 125
    assert period_discount_minor(1004, [Terms(percent_off=Decimal("12.5"))], currency="usd") == 126


def test_discounts_apply_in_order_to_what_the_earlier_ones_left() -> None:
    # $5.00 off $29.00 leaves $24.00; 20% of that is $4.80: $9.80 off in all.
    both = [Terms(amount_off_minor=500, currency="usd"), Terms(percent_off=Decimal("20"))]
    assert period_discount_minor(2900, both, currency="usd") == 980


def test_an_amount_off_never_goes_below_zero_and_only_in_its_currency() -> None:
    assert period_discount_minor(300, [Terms(amount_off_minor=500, currency="usd")], currency="usd") == 300
    assert period_discount_minor(2900, [Terms(amount_off_minor=500, currency="eur")], currency="usd") == 0
    assert period_discount_minor(2900, [], currency="usd") == 0
