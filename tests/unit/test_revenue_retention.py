"""Net revenue retention, expansion and contraction per month, from the MRR history: hand-computed figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from coinslot.analytics import core
from coinslot.subscriptions.core import MrrMove, mrr_moves, paying_monthly_minor

MAY = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
JUNE = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def on(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")


def row(subscription_id: int, customer_id: int, day: str, after_minor: Fraction | int, *,
        currency: str = "usd", opening: bool = False) -> core.MrrHistoryRow:
    return core.MrrHistoryRow(subscription_id=subscription_id, customer_id=customer_id, currency=currency,
                              opening=opening, at=on(day), after_minor=Fraction(after_minor))


# Written in the order the syncs wrote them (by time, then id), as the repository reads them.
HISTORY = [
    row(2, 2, "2026-04-20", 3 * 1000),       # Team, 3 seats at $10.00
    row(3, 3, "2026-04-21", 1499),           # Pro
    row(4, 4, "2026-04-22", 499),            # Core
    row(6, 6, "2026-05-03", 1900, currency="eur"),
    row(1, 1, "2026-06-02", 499, opening=True),  # Core since before the history began: not new
    row(5, 5, "2026-06-05", 1499),           # a new customer on Pro
    row(3, 3, "2026-06-10", 499),            # Pro -> Core: contraction 1000
    row(2, 2, "2026-06-12", 5 * 1000),       # 3 -> 5 seats: expansion 2000
    row(1, 1, "2026-06-15", 1499),           # Core -> Pro: expansion 1000
    row(4, 4, "2026-06-20", 0),              # canceled: churned 499
]


def test_a_month_with_an_upgrade_more_seats_a_downgrade_a_cancellation_and_a_new_customer() -> None:
    may_usd, may_eur, june_eur, june_usd = _by_month(core.monthly_retention(HISTORY, months=[MAY, JUNE]))

    start = 499 + 3000 + 1499 + 499  # Core (opening), Team x3, Pro, Core
    assert (june_usd.start_minor, june_usd.new_minor, june_usd.expansion_minor, june_usd.contraction_minor,
            june_usd.churned_minor, june_usd.end_minor) == (start, 1499, 1000 + 2000, 1000, 499, 8497)
    assert start + 1499 + 3000 - 1000 - 499 == 8497
    assert (june_usd.customers_at_start, june_usd.customers_new, june_usd.customers_churned) == (4, 1, 1)
    assert june_usd.nrr == Fraction(5497 + 3000 - 1000 - 499, 5497)  # 6998/5497, exact
    assert june_usd.nrr_percent == Decimal("127.3")  # 127.3058...: one decimal, half up
    # May: the same customers, nothing moved (the opening counts from before the first month).
    assert (may_usd.start_minor, may_usd.end_minor, may_usd.nrr_percent) == (start, start, Decimal("100.0"))
    # A currency apart: EUR's new customer in May, kept in June.
    assert (may_eur.start_minor, may_eur.new_minor, may_eur.end_minor, may_eur.nrr) == (0, 1900, 1900, None)
    assert (june_eur.start_minor, june_eur.end_minor, june_eur.nrr_percent) == (1900, 1900, Decimal("100.0"))


def _by_month(months: list[core.MonthRetention]) -> tuple[core.MonthRetention, ...]:
    assert [(each.month, each.currency) for each in months] == [
        (MAY.date(), "eur"), (MAY.date(), "usd"), (JUNE.date(), "eur"), (JUNE.date(), "usd")]
    may_eur, may_usd, june_eur, june_usd = months
    return may_usd, may_eur, june_eur, june_usd


def test_a_customer_is_netted_over_the_month_not_counted_per_change() -> None:
    history = [
        row(1, 1, "2026-05-10", 1499),
        row(1, 1, "2026-06-03", 2999),  # up to Studio...
        row(1, 1, "2026-06-09", 1499),  # ...and back within the month: nothing moved
        row(2, 2, "2026-05-11", 1499),
        row(2, 2, "2026-06-04", 0),     # ends one subscription...
        row(3, 2, "2026-06-04", 499),   # ...and starts a cheaper one: a contraction, not churn and new
    ]
    [june] = core.monthly_retention(history, months=[JUNE])
    moved = (june.new_minor, june.expansion_minor, june.contraction_minor, june.churned_minor)
    assert moved == (0, 0, 1000, 0)
    assert june.nrr == Fraction(1499 + 499, 2998)


def test_yearly_amounts_stay_exact_and_each_figure_rounds_once() -> None:
    # Three yearly $290.00 subscriptions: 29000/12 = 2416 2/3 each; 7250 together, not 3 x 2417 = 7251.
    history = [row(n, n, "2026-05-0" + str(n), Fraction(29000, 12)) for n in (1, 2, 3)]
    history.append(row(2, 2, "2026-06-10", 0))
    may, june = core.monthly_retention(history, months=[MAY, JUNE])
    assert (may.new_minor, may.end_minor) == (7250, 7250)
    assert (june.start_minor, june.churned_minor, june.end_minor) == (7250, 2417, 4833)
    assert june.nrr == Fraction(2, 3)
    assert june.nrr_percent == Decimal("66.7")


def test_months_run_through_the_year_end() -> None:
    starts = core.month_starts(dt.datetime(2026, 12, 28, 22, 0, tzinfo=dt.UTC),
                               dt.datetime(2027, 2, 3, tzinfo=dt.UTC))
    assert [each.date().isoformat() for each in starts] == ["2026-12-01", "2027-01-01", "2027-02-01"]


def test_a_sync_records_a_change_once_and_an_end_as_churn() -> None:
    pro, core_ = Fraction(1499), Fraction(499)
    assert mrr_moves(recorded=None, mirrored=None, synced=("usd", pro)) == [MrrMove("change", "usd", 0, pro)]
    assert mrr_moves(recorded=("usd", pro), mirrored=("usd", pro), synced=("usd", pro)) == []  # a replay
    assert mrr_moves(recorded=("usd", pro), mirrored=("usd", pro), synced=("usd", core_)) == [
        MrrMove("change", "usd", pro, core_)]
    assert mrr_moves(recorded=("usd", pro), mirrored=("usd", pro), synced=("usd", Fraction(0))) == [
        MrrMove("change", "usd", pro, 0)]
    assert mrr_moves(recorded=None, mirrored=None, synced=("usd", Fraction(0))) == []  # incomplete, trialing
    assert mrr_moves(recorded=("usd", pro), mirrored=("usd", pro), synced=("usd", None)) == []  # unknown


def test_a_subscription_mirrored_before_the_history_opens_with_its_amount_then_changes() -> None:
    pro, studio = Fraction(1499), Fraction(2999)
    assert mrr_moves(recorded=None, mirrored=("usd", pro), synced=("usd", pro)) == [
        MrrMove("opening", "usd", None, pro)]
    assert mrr_moves(recorded=None, mirrored=("usd", pro), synced=("usd", studio)) == [
        MrrMove("opening", "usd", None, pro), MrrMove("change", "usd", pro, studio)]
    # Mirrored before its amounts were (revision 0005): its first known amount is the opening.
    assert mrr_moves(recorded=None, mirrored=("usd", None), synced=("usd", pro)) == [
        MrrMove("opening", "usd", None, pro)]
    # A trial mirrored before: nothing to open with; its conversion is new revenue.
    assert mrr_moves(recorded=None, mirrored=("usd", Fraction(0)), synced=("usd", pro)) == [
        MrrMove("change", "usd", 0, pro)]


def test_the_monthly_amount_is_what_mrr_counts() -> None:
    def value(status: str, amount: int | None, interval: str = "month", count: int = 1,
              discount: int = 0) -> Fraction | None:
        return paying_monthly_minor(status=status, period_amount_minor=amount, period_discount_minor=discount,
                                    interval=interval, interval_count=count)

    assert value("active", 5 * 1000) == 5000
    assert value("past_due", 1499, discount=300) == 1199
    assert value("active", 29000, "year") == Fraction(29000, 12)
    assert value("active", 2990, "month", count=3) == Fraction(2990, 3)
    assert value("trialing", 1499) == 0
    assert value("canceled", 1499) == 0
    assert value("active", None) is None
