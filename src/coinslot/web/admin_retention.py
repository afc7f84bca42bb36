"""The figures page's revenue retention: per month and currency, a table, a chart and a CSV file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from coinslot.analytics.core import MonthRetention
from coinslot.analytics.service import Retention
from coinslot.money import format_minor
from coinslot.web.charts import PALETTE, BarSeries, diverging_bars

__all__ = [
    "RETENTION_CSV_COLUMNS", "CurrencyRetention", "month_under_way", "retention_by_currency", "retention_csv",
]

RETENTION_CSV_COLUMNS = (
    "month", "currency", "start_mrr_minor", "new_minor", "expansion_minor", "contraction_minor",
    "churned_minor", "end_mrr_minor", "customers_at_start", "customers_new", "customers_churned",
    "nrr_percent", "nrr_exact",
)
_GAINS = (("New", PALETTE[2]), ("Expansion", PALETTE[0]))
_LOSSES = (("Contraction", PALETTE[1]), ("Churned", PALETTE[4]))


@dataclass(frozen=True, slots=True)
class CurrencyRetention:
    currency: str
    months: list[MonthRetention]  # oldest first
    chart: Markup
    legend: list[tuple[str, str]]  # (name, colour)


def retention_by_currency(retention: Retention) -> list[CurrencyRetention]:
    """The months of each currency apart (amounts in different currencies never add up), with a chart
    of what moved MRR each month: new and expansion above the line, contraction and churn below."""
    found = []
    for currency in sorted({month.currency for month in retention.months}):
        months = [month for month in retention.months if month.currency == currency]
        labels = [f"{month.month:%b %Y}" for month in months]
        gains = [BarSeries(name, colour, values) for (name, colour), values in zip(_GAINS, (
            tuple(m.new_minor for m in months), tuple(m.expansion_minor for m in months)), strict=True)]
        losses = [BarSeries(name, colour, values) for (name, colour), values in zip(_LOSSES, (
            tuple(m.contraction_minor for m in months), tuple(m.churned_minor for m in months)), strict=True)]
        title = f"MRR gained and lost per month, {currency.upper()}"
        chart = diverging_bars(labels, gains, losses, label=title, value_text=_money_of(currency))
        found.append(CurrencyRetention(currency, months, chart, [*_GAINS, *_LOSSES]))
    return found


def _money_of(currency: str) -> Callable[[int], str]:
    return lambda amount_minor: format_minor(amount_minor, currency)


def retention_csv(retention: Retention) -> str:
    """Every month since the MRR history began, one row per month and currency (RETENTION_CSV_COLUMNS):
    amounts in minor units as integers, each rounded once; NRR as a percentage (one decimal, half up) and
    as the exact fraction it was rounded from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RETENTION_CSV_COLUMNS)
    for m in retention.months:
        writer.writerow((
            m.month.isoformat(), m.currency, m.start_minor, m.new_minor, m.expansion_minor,
            m.contraction_minor, m.churned_minor, m.end_minor, m.customers_at_start, m.customers_new,
            m.customers_churned,
            "" if m.nrr_percent is None else str(m.nrr_percent), "" if m.nrr is None else str(m.nrr),
        ))
    return out.getvalue()


def month_under_way(now: dt.datetime) -> dt.date:
    """The first day of the month `now` is in: its figures are so far, not final."""
    return now.astimezone(dt.UTC).date().replace(day=1)
