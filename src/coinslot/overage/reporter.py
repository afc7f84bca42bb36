"""The reporter: claim due overage reports, send each as a Stripe meter event, record the outcomes.

    claim (short tx) ──> send (no tx: one meter event per report) ──> record the batch (one tx)
                            accepted, or a duplicate identifier -> reported
                            Stripe unreachable / 5xx / 429       -> failed, due again after the backoff
                            refused (e.g. no meter), or too many -> dead + alert; `replay` sends it again
                            accepted after its period's invoice was finalized -> reported + alert
                                (overage.report_late: Stripe bills it on no invoice; core.too_late_to_bill)

Reports are a queue (`coinslot.queue`, kind OVERAGE_REPORTS): several reporters share it through
leases. Each event's identifier is derived from its ledger entry (`core.meter_identifier`), so a
report sent twice (a lost answer, a reporter killed before recording, a lease taken over) is counted
once by Stripe: the second send answers "already exists", which is recorded as reported.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from coinslot.alerts import service as alerts
from coinslot.catalog.core import OVERAGE_EVENT_NAME
from coinslot.clock import Clock
from coinslot.config import Settings
from coinslot.customers import service as customers
from coinslot.customers import test_clocks
from coinslot.db import Database
from coinslot.errors import CoinslotError, StripeUnavailable
from coinslot.overage import core
from coinslot.queue import policy
from coinslot.queue import repository as queue
from coinslot.queue.kinds import OVERAGE_REPORTS
from coinslot.queue.runner import new_worker_id, run_loop, start_loop_thread
from coinslot.stripe_gateway import StripeGateway

__all__ = ["BATCH_SIZE", "report_due", "run_reporter", "start_overage_reporter"]

log = logging.getLogger("coinslot.overage")
BATCH_SIZE = 50
_LEASE_S_PER_EVENT = 25.0  # a timed-out call (20 s) and some: no lease runs out while its batch is sent


class Runtime(Protocol):
    """What the reporter needs of the process (the Container has it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def gateway(self) -> StripeGateway: ...


@dataclass(frozen=True, slots=True)
class _Claimed:
    row_id: int
    identifier: str
    stripe_customer_id: str | None
    credits: int
    occurred_at: dt.datetime
    late: bool  # sent after the invoice of its use's period was finalized: Stripe will bill it nowhere


@dataclass(frozen=True, slots=True)
class _Outcome:
    claimed: _Claimed
    error: CoinslotError | None = None


def _retry_policy(settings: Settings) -> policy.RetryPolicy:
    # Stripe dedupes identifiers for at least 24 hours: every retry falls well inside that window.
    return policy.RetryPolicy(base_s=settings.webhook_retry_base_s, cap_s=settings.webhook_retry_cap_s,
                              max_attempts=settings.webhook_max_attempts)


def _claim(runtime: Runtime, *, reporter: str, limit: int) -> list[_Claimed]:
    now = runtime.clock.now()
    lease_until = now + dt.timedelta(seconds=_LEASE_S_PER_EVENT * limit)
    livemode = runtime.gateway.livemode
    with runtime.db.unit_of_work() as session:
        rows = queue.claim_due(session, OVERAGE_REPORTS, now=now, worker=reporter, lease_until=lease_until,
                               limit=limit)
        claimed = []
        for row in rows:
            customer = customers.get_by_id(session, customer_id=row.customer_id)
            try:
                stripe_id = customers.stripe_id_for_mode(customer, livemode=livemode) if customer else None
            except CoinslotError:  # linked in the other mode: recorded as the send's failure, below
                stripe_id = None
            on_clock = customer is not None and customer.stripe_test_clock_id is not None
            sent_at = test_clocks.time_of(session, customer_id=row.customer_id, now=now) if on_clock else now
            late = core.too_late_to_bill(period_end=row.period_end, sent_at=sent_at)
            claimed.append(_Claimed(row.id, row.identifier, stripe_id, row.credits, row.occurred_at, late))
        return claimed


def _send(gateway: StripeGateway, claimed: _Claimed) -> _Outcome:
    if claimed.stripe_customer_id is None:
        return _Outcome(claimed, CoinslotError("the customer has no Stripe customer in this mode"))
    try:
        gateway.meters.send_event(event_name=OVERAGE_EVENT_NAME,
                                  stripe_customer_id=claimed.stripe_customer_id, value=claimed.credits,
                                  identifier=claimed.identifier, timestamp=claimed.occurred_at)
    except CoinslotError as exc:
        return _Outcome(claimed, exc)
    return _Outcome(claimed)


def _record(runtime: Runtime, outcomes: list[_Outcome], *, reporter: str) -> None:
    """Every outcome of the batch, in one transaction; a row whose lease was lost is left to its holder."""
    now = runtime.clock.now()
    with runtime.db.unit_of_work() as session:
        for outcome in outcomes:
            row = queue.held_lease(session, OVERAGE_REPORTS, row_id=outcome.claimed.row_id, worker=reporter)
            if row is None:
                continue
            if outcome.error is None:
                row.status, row.reported_at, row.next_attempt_at, row.last_error = "reported", now, None, None
                row.locked_by = row.locked_until = None
                if outcome.claimed.late:
                    _alert_late(session, row.identifier, credits=row.credits, occurred_at=row.occurred_at,
                                period_end=row.period_end, now=now)
                continue
            row.last_error = str(outcome.error)
            retriable = isinstance(outcome.error, StripeUnavailable)
            if policy.fail(row, policy=_retry_policy(runtime.settings), seed=row.identifier, now=now,
                           retriable=retriable) == "dead":
                alerts.record(session, code="overage.report_dead", now=now, subject_type="overage_report",
                              subject_id=row.identifier,
                              message=f"overage of {row.credits} credit(s) ({row.identifier}) could not be "
                                      f"reported to Stripe after {row.attempts} attempt(s): {outcome.error}. "
                                      "Fix the cause (`coinslot catalog push` makes the meter), then replay "
                                      "it.")
            log.warning("overage report failed", extra={"identifier": row.identifier, "status": row.status,
                                                        "error": str(outcome.error)})


def _alert_late(session: Session, identifier: str, *, credits: int, occurred_at: dt.datetime,
                period_end: dt.datetime | None, now: dt.datetime) -> None:
    """Stripe took the event, but the invoice of its period was finalized already: no invoice will count
    it, so the operator is told rather than the overage being given away silently."""
    ended = period_end.isoformat() if period_end else "-"
    alerts.record(session, code="overage.report_late", now=now, subject_type="overage_report",
                  subject_id=identifier,
                  message=f"overage of {credits} credit(s) used at {occurred_at.isoformat()} ({identifier}) "
                          f"reached Stripe after the invoice of its period (ended {ended}) was finalized: "
                          "Stripe bills it on no invoice. Charge it by hand (an invoice item at the plan's "
                          "price per credit) or waive it.")


def report_due(runtime: Runtime, *, limit: int = BATCH_SIZE, reporter: str | None = None) -> int:
    """Claim one batch of due reports, send them, record the outcomes; the number claimed (0 = none due)."""
    reporter = reporter or new_worker_id()
    batch = _claim(runtime, reporter=reporter, limit=limit)
    if not batch:
        return 0
    outcomes = [_send(runtime.gateway, claimed) for claimed in batch]
    _record(runtime, outcomes, reporter=reporter)
    return len(batch)


def run_reporter(runtime: Runtime, *, stop: threading.Event) -> None:
    """Loop until `stop` is set: report batches back to back, wait the poll interval when idle."""
    reporter = new_worker_id()
    run_loop(f"overage reporter {reporter}", lambda: report_due(runtime, reporter=reporter), stop=stop,
             poll_s=runtime.settings.worker_poll_interval_s)


def start_overage_reporter(runtime: Runtime) -> Callable[[], None] | None:
    """The reporter's thread, beside `coinslot worker`'s loops (and the SQLite demo's in-process worker)."""
    if runtime.settings.stripe_secret_key is None:
        return None
    return start_loop_thread("coinslot-overage-reporter", lambda stop: run_reporter(runtime, stop=stop))
