"""A plan period's credits: the first grant of a period (with rollover), and plan changes inside it.

Part of the ledger service (`service.grant_period` is this function). Periods are
recognised by their source (the subscription, or the free plan) and their start: lots of
kind grant/rollover carry `source` and `period_start`. Another source's periods are another
subscription's: a grant never touches them.

    new period   -> the source's earlier periods' lots end at this start (at the latest); what is
                    left of them rolls over up to the plan's cap; the rest expires.
    same period  -> a plan change: an upgrade tops the period up to the new allowance (never
                    re-granting what an earlier upgrade gave); a downgrade caps what is left.

A period's lots expire `renewal_grace` after its end unless the next period's grant ends them
first (`core.period_lots_expire_at`): a subscriber keeps their credits until the renewal is paid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coinslot.errors import InvalidInput
from coinslot.ledger import core
from coinslot.ledger import repository as repo
from coinslot.ledger.posting import (
    Change,
    EntryResult,
    fingerprint,
    fund_lot,
    lot_view,
    new_lot,
    open_entry,
    post,
    settle,
)
from coinslot.models import CreditBalance, CreditLot

__all__ = ["grant_period"]


def grant_period(
    session: Session,
    *,
    customer_id: int,
    entry_id: str,
    credits: int,
    period_start: dt.datetime,
    period_end: dt.datetime,
    rollover_cap: int,
    unlimited: bool,
    now: dt.datetime,
    source: str | None,
    downgrade: core.DowngradePolicy = "cap",
    renewal_grace: dt.timedelta = dt.timedelta(0),
) -> EntryResult:
    """Grant a plan period's credits, once per entry id (one paid invoice = one grant).

    They expire when the next period's grant of the same `source` replaces them, or
    `renewal_grace` after `period_end` (the past-due grace of subscriptions; none for periods
    granted lazily at their first use, like the free month). The first grant of a period carries
    over what the source's previous period left, up to `rollover_cap`. A second grant for the same
    period is a plan change: an upgrade adds only the difference to what this
    period already received; a downgrade leaves at most the new allowance
    (`downgrade="keep"` keeps them). Unlimited plans grant nothing and record the entry.
    """
    if credits < 0 or rollover_cap < 0:
        raise InvalidInput("credits and rollover_cap must be >= 0", field="credits")
    if period_end <= period_start:
        raise InvalidInput("period_end must be after period_start", field="period_end")
    allowance = 0 if unlimited else credits
    # Not fingerprinted: a policy setting, and a replayed invoice must not conflict when it changes.
    expires_at = core.period_lots_expire_at(period_end=period_end, renewal_grace=renewal_grace)
    fp = fingerprint(op="grant", customer_id=customer_id, credits=credits, period_start=period_start,
                     period_end=period_end, rollover_cap=rollover_cap, unlimited=unlimited, source=source)
    # Settled below: a new period ends the previous one's lots first.
    opened = open_entry(session, customer_id=customer_id, entry_id=entry_id, fingerprint=fp, now=now,
                        settle_due=False)
    if opened.replayed is not None:
        return opened.replayed
    balance = opened.balance
    this_period, previous = repo.period_lots(session, customer_id=customer_id, period_start=period_start,
                                             source=source)
    reason: str | None
    if any(lot.kind == "grant" for lot in this_period):
        settle(session, balance, now=now)
        change, lot, reason = _plan_change(session, balance, this_period, allowance=allowance,
                                           period_start=period_start, expires_at=expires_at, now=now,
                                           source=source, downgrade=downgrade)
    else:
        change, lot, reason = _new_period(
            session, balance, previous, allowance=allowance, period_start=period_start, expires_at=expires_at,
            rollover_cap=rollover_cap, now=now, source=source,
        )
    balance.period_credits = allowance
    entry = post(session, balance, entry_id=entry_id, kind="grant", credits=credits, fingerprint=fp, now=now,
                 change=change, lot=lot, source=source, reason=reason)
    return EntryResult.of(entry)


def _new_period(
    session: Session,
    balance: CreditBalance,
    previous: list[CreditLot],
    *,
    allowance: int,
    period_start: dt.datetime,
    expires_at: dt.datetime,
    rollover_cap: int,
    now: dt.datetime,
    source: str | None,
) -> tuple[Change, CreditLot, str | None]:
    # `previous`: the source's earlier periods' lots that reach this start (`repo.period_lots`).
    # The new period replaces the old one from its start: the old lots were kept past their
    # period's end only until this grant (the renewal grace), and a period that restarted early
    # (a new billing anchor) must not let a plan change hand out two periods' credits at once.
    repo.end_lots_by(session, customer_id=balance.customer_id, lots=previous, end_at=period_start)
    settle(session, balance, now=now)
    change = Change()
    carried = _carry_over(session, balance, change, previous, rollover_cap=rollover_cap, now=now,
                          period_start=period_start, expires_at=expires_at, source=source)
    lot = new_lot(session, balance, kind="grant", credits=allowance, now=now, expires_at=expires_at,
                  period_start=period_start, source=source)
    fund_lot(session, balance, change, lot)
    return change, lot, f"rollover {carried}" if carried else None


def _carry_over(
    session: Session,
    balance: CreditBalance,
    change: Change,
    previous: list[CreditLot],
    *,
    rollover_cap: int,
    now: dt.datetime,
    period_start: dt.datetime,
    expires_at: dt.datetime,
    source: str | None,
) -> int:
    """Move what the previous period left (still live, or already expired) into a rollover lot."""
    if rollover_cap == 0 or not previous:
        return 0
    live = [lot for lot in previous if core.is_live(lot.expires_at, now) and lot.remaining_credits > 0]
    split = core.rollover_split(  # settled already: a lot past its expiry has been expired
        live_credits=sum(lot.remaining_credits for lot in live),
        expired_credits=repo.expired_credits(session, lot_ids=[lot.id for lot in previous]),
        rollover_cap=rollover_cap,
    )
    if split.carried == 0:
        return 0
    rollover = new_lot(session, balance, kind="rollover", credits=split.carried, now=now,
                       expires_at=expires_at, period_start=period_start, source=source)
    by_id = {lot.id: lot for lot in live}
    for drawn in core.draw([lot_view(lot) for lot in live], split.from_live_credits, now):
        change.take(by_id[drawn.lot_id], drawn.credits)
    change.give(rollover, split.carried)
    return split.carried


def _plan_change(
    session: Session,
    balance: CreditBalance,
    this_period: list[CreditLot],
    *,
    allowance: int,
    period_start: dt.datetime,
    expires_at: dt.datetime,
    now: dt.datetime,
    source: str | None,
    downgrade: core.DowngradePolicy,
) -> tuple[Change, CreditLot | None, str]:
    grants = [lot for lot in this_period if lot.kind == "grant"]
    live = [lot for lot in grants if core.is_live(lot.expires_at, now) and lot.remaining_credits > 0]
    step = core.period_change(
        granted_credits=sum(lot.original_credits for lot in grants),
        period_remaining_credits=sum(lot.remaining_credits for lot in live),
        allowance_credits=allowance,
        policy=downgrade,
    )
    change = Change()
    by_id = {lot.id: lot for lot in live}
    for drawn in core.draw([lot_view(lot) for lot in live], step.cut_credits, now):
        change.take(by_id[drawn.lot_id], drawn.credits)
    lot = None
    if step.grant_credits:
        lot = new_lot(session, balance, kind="grant", credits=step.grant_credits, now=now,
                      expires_at=expires_at, period_start=period_start, source=source)
        fund_lot(session, balance, change, lot)
    reason = f"plan change: +{step.grant_credits}"
    if step.cut_credits:
        reason += f", capped -{step.cut_credits}"
    return change, lot, reason
