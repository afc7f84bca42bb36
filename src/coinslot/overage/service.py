"""Overage's use cases: the report of an overage entry (written in the entry's transaction), a billing
period's overage so far and its cost, and the proof that every overage entry is reported exactly once.

Each runs inside the caller's transaction and never commits. Sending is the reporter's (`reporter.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coinslot.catalog.core import Overage
from coinslot.ledger import service as ledger
from coinslot.models import OverageReport
from coinslot.money import currency_exponent
from coinslot.overage import core
from coinslot.overage import repository as repo
from coinslot.queue import service as queue
from coinslot.queue.kinds import OVERAGE_REPORTS

__all__ = ["PeriodOverage", "counts", "period_overage", "record", "replay", "verify"]


def record(
    session: Session, *, entry: ledger.EntryResult, stripe_customer_id: str, period_end: dt.datetime | None,
    now: dt.datetime,
) -> OverageReport:
    """Queue the meter event of an `overage` entry just written, in its transaction: the entry and its
    report commit together or not at all. The event's time is the entry's (the customer's clock, in
    test mode); it is due at once, by the worker's clock `now`. `period_end`: the end of the billing
    period the use fell in (the reporter tells when it is sent too late for that period's invoice)."""
    if entry.kind != "overage" or entry.pk is None:
        raise ValueError(f"entry {entry.entry_id} is not an overage entry just written")
    beyond = entry.credits + entry.available_delta
    return repo.add(session, OverageReport(
        entry_pk=entry.pk, customer_id=entry.customer_id, credits=beyond, occurred_at=entry.created_at,
        period_end=period_end,
        identifier=core.meter_identifier(stripe_customer_id=stripe_customer_id, entry_id=entry.entry_id),
        created_at=now, status="pending", attempts=0, next_attempt_at=now,
    ))


@dataclass(frozen=True, slots=True)
class PeriodOverage:
    """A billing period's overage so far: what its invoice's metered line will bill."""

    credits: int
    cost_minor: int  # round_half_up(credits x unit price): the one rule (overage/core.py)
    currency: str
    price_per_credit: str  # in the currency's major unit, exact, as the catalog says it ("0.875")
    reported_credits: int  # the part Stripe has accepted so far
    cap_minor: int | None


def period_overage(
    session: Session, *, customer_id: int, since: dt.datetime, terms: Overage
) -> PeriodOverage:
    """The overage of the period that started at `since`, priced by the plan's terms."""
    credits = ledger.overage_credits(session, customer_id=customer_id, since=since)
    return PeriodOverage(
        credits=credits, cost_minor=core.cost_minor(credits, terms.unit_amount_minor),
        currency=terms.currency,
        price_per_credit=format(terms.unit_amount_minor.scaleb(-currency_exponent(terms.currency)).normalize(),
                                "f"),
        reported_credits=repo.reported_credits(session, customer_id=customer_id, since=since),
        cap_minor=terms.cap_minor,
    )


def verify(session: Session) -> list[ledger.Discrepancy]:
    """Every overage entry has one report of the same customer and credits (what Stripe bills is what the
    ledger says), and every report belongs to an overage entry."""
    found: list[ledger.Discrepancy] = []
    reports = repo.credits_by_entry(session)
    for customer, entry_pk, entry_id, beyond in ledger.overage_entries(session):
        report = reports.pop(entry_pk, None)
        if report is None:
            found.append(ledger.Discrepancy(customer, f"overage entry {entry_id} has no meter report",
                                            beyond, 0))
        elif report != (customer, beyond):
            found.append(ledger.Discrepancy(customer, f"overage entry {entry_id} reported credits", beyond,
                                            report[1]))
    for entry_pk, (customer, credits) in sorted(reports.items()):
        found.append(ledger.Discrepancy(customer, f"meter report of entry row {entry_pk}, not an overage "
                                                  "entry", 0, credits))
    return found


def counts(session: Session) -> dict[str, queue.StatusCount]:
    """Reports by status (pending, sending, failed, reported, dead); reported is capped (`queue.counts`)."""
    return queue.counts(session, OVERAGE_REPORTS)


def replay(session: Session, *, ref: str | int, now: dt.datetime) -> Any:
    """Send a dead report again (by its identifier or row id), with the same identifier."""
    return queue.replay(session, OVERAGE_REPORTS, ref=ref, now=now)
