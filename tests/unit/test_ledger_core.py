"""The ledger's pure rules: what a spend draws, what holds give back, what refunds and plan changes do."""

from __future__ import annotations

import datetime as dt

import pytest

from coinslot.errors import InsufficientCredits
from coinslot.ledger import core
from coinslot.ledger.core import Draw, LotView

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_a_spend_draws_the_credits_that_expire_first_and_never_expiring_ones_last() -> None:
    purchased = LotView(1, 10, None)
    month = LotView(2, 5, NOW + 30 * DAY)
    promo = LotView(3, 5, NOW + 2 * DAY)
    assert core.draw([purchased, month, promo], 12, NOW) == [Draw(3, 5), Draw(2, 5), Draw(1, 2)]


def test_an_expired_lot_never_pays() -> None:
    expired = LotView(1, 10, NOW)  # expiring at `now` means gone at `now`
    live = LotView(2, 3, NOW + DAY)
    with pytest.raises(InsufficientCredits, match="need 5, have 3"):
        core.draw([expired, live], 5, NOW)
    assert core.available_credits([expired, live], NOW) == 3
    assert core.due_lots([expired, live], NOW) == [Draw(1, 10)]


def test_a_short_balance_names_what_is_needed_and_what_there_is() -> None:
    with pytest.raises(InsufficientCredits) as refused:
        core.draw([LotView(1, 1, None)], 3, NOW)
    assert (refused.value.needed, refused.value.available) == (3, 1)
    assert refused.value.message == "insufficient credits: need 3, have 1"


def test_a_partial_capture_keeps_the_soonest_expiring_credits_spent() -> None:
    drawn = [Draw(1, 4), Draw(2, 6)]  # lot 1 expires first
    assert core.give_back(drawn, 7) == [Draw(2, 6), Draw(1, 1)]
    assert core.give_back(drawn, 0) == []
    with pytest.raises(ValueError):
        core.give_back(drawn, 11)


def test_capturing_more_than_the_hold_draws_the_difference() -> None:
    assert core.capture_split(held_credits=10, capture_credits=7) == core.CaptureSplit(3, 0)
    assert core.capture_split(held_credits=10, capture_credits=12) == core.CaptureSplit(0, 2)


def test_a_refund_takes_what_is_left_and_records_the_rest_as_debt() -> None:
    assert core.claw_back_split(remaining_credits=10, claw_credits=25) == (10, 15)
    assert core.claw_back_split(remaining_credits=30, claw_credits=25) == (25, 0)
    assert core.repaid_debt_credits(debt_credits=15, incoming_credits=25) == 15
    assert core.repaid_debt_credits(debt_credits=15, incoming_credits=10) == 10


def test_an_upgrade_grants_only_the_difference_and_never_twice() -> None:
    # CORE (25) -> PRO (100): +75
    assert core.period_change(
        granted_credits=25, period_remaining_credits=10, allowance_credits=100, policy="cap"
    ) == core.PeriodChange(75, 0)
    # ... back to CORE and up to PRO again: the period already had its 100
    assert core.period_change(
        granted_credits=100, period_remaining_credits=25, allowance_credits=100, policy="cap"
    ) == core.PeriodChange(0, 0)


def test_a_downgrade_caps_what_is_left_unless_configured_to_keep_it() -> None:
    assert core.period_change(
        granted_credits=100, period_remaining_credits=90, allowance_credits=25, policy="cap"
    ) == core.PeriodChange(0, 65)
    assert core.period_change(
        granted_credits=100, period_remaining_credits=10, allowance_credits=25, policy="cap"
    ) == core.PeriodChange(0, 0)
    assert core.period_change(
        granted_credits=100, period_remaining_credits=90, allowance_credits=25, policy="keep"
    ) == core.PeriodChange(0, 0)


def test_rollover_is_capped() -> None:
    assert core.rollover_credits(unused_credits=80, rollover_cap=50) == 50
    assert core.rollover_credits(unused_credits=20, rollover_cap=50) == 20
    assert core.rollover_credits(unused_credits=20, rollover_cap=0) == 0


def test_low_and_exhausted_are_reported_once_when_crossed() -> None:
    def crossed(before: int, after: int) -> list[str]:
        return core.crossed_thresholds(
            before_credits=before, after_credits=after, period_credits=25, low_balance_pct=20
        )

    assert crossed(10, 4) == ["low"]  # 20% of 25 = 5
    assert crossed(4, 1) == []  # already low
    assert crossed(1, 0) == ["exhausted"]
    assert crossed(10, 0) == ["exhausted"]
    assert crossed(25, 22) == []


def test_period_credits_outlive_their_period_by_the_renewal_grace_at_most() -> None:
    period_end = NOW + 30 * DAY
    assert core.period_lots_expire_at(period_end=period_end, renewal_grace=3 * DAY) == period_end + 3 * DAY
    assert core.period_lots_expire_at(period_end=period_end, renewal_grace=dt.timedelta(0)) == period_end
    with pytest.raises(ValueError):
        core.period_lots_expire_at(period_end=period_end, renewal_grace=-DAY)


def test_a_rollover_moves_the_live_credits_first_and_adds_only_what_expired() -> None:
    split = core.rollover_split(live_credits=4, expired_credits=10, rollover_cap=6)
    assert (split.carried, split.from_live_credits, split.added_credits) == (6, 4, 2)
    assert core.rollover_split(live_credits=9, expired_credits=0, rollover_cap=6).added_credits == 0
    assert core.rollover_split(live_credits=3, expired_credits=3, rollover_cap=0).carried == 0
