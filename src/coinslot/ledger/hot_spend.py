"""The common spend in a few prepared statements, under the account lock; `service.spend` for the rest.

A consume on a hot account holds every other writer of it (on SQLite, of the whole database) for as
long as it runs under the lock. `service.spend` takes the general path there: ORM rows for the
balance and the lots, the lazily granted period, lazy expiry, overage, unlimited plans, the outbox's
low-balance events. Most uses need none of it: a balance that covers the cost, nothing expired, no
threshold crossed. Those are written here by prepared statements on the session's connection, by the
same rules (`core.draw`, the same fingerprint, the same entry), and `credits verify` cannot tell which
path wrote an entry:

    repository.lock_account   the lock, balance, live lots, next hold expiry: once per transaction
                              (the lock is this transaction's until it ends, so its copy stays true)
    repository.write_spend    the entry, its draws and movements, the balance: one statement on
                              PostgreSQL (data-modifying CTEs), four on SQLite

A batch of group commit (coinslot/group_commit.py) runs its plain consumes in one transaction, so the
consumes of a hot account after its first cost one write each.

`spend` answers None, having written nothing, whenever the general path must decide; its caller then
calls `service.spend` in the same transaction (the lock it holds is simply held again):

  - no balance row yet, or a lot or hold expired and not written (settle first),
  - `admit` declines on the balance (a refusal, overage, unlimited: the caller's rules),
  - the spend would cross the low-balance or exhausted threshold (an outbox event to write),
  - the entry id was used already (the general path replays or refuses it).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.orm import Session

from coinslot.errors import InsufficientCredits
from coinslot.ledger import core
from coinslot.ledger import repository as repo
from coinslot.ledger.posting import EntryResult, fingerprint
from coinslot.observability import CREDITS_MOVED

__all__ = ["spend"]


def spend(
    session: Session,
    *,
    customer_id: int,
    entry_id: str,
    credits: int,
    feature: str | None,
    now: dt.datetime,
    admit: Callable[[int], bool],
    low_balance_pct: int,
) -> EntryResult | None:
    """`service.spend`'s entry for a plain use of `credits` (> 0), or None with nothing written (see the
    module). `admit(available_credits)` decides under the lock, as `service.spend`'s does."""
    if credits <= 0 or session.new or session.dirty or session.deleted:
        return None  # unflushed ORM changes: the statements here would not see them
    account = repo.lock_account(session, customer_id=customer_id)
    if account is None or account.expiry_due(now) or not admit(account.available_credits):
        return None
    after_credits = account.available_credits - credits
    if after_credits < 0 or core.crossed_thresholds(
        before_credits=account.available_credits, after_credits=after_credits,
        period_credits=account.period_credits, low_balance_pct=low_balance_pct,
    ):
        return None
    try:
        draws = core.draw(account.live_lots, credits, now)
    except InsufficientCredits:
        return None  # the cache and the lots disagree: `service.spend` (and `credits verify`) tell why
    entry = {
        "entry_id": entry_id, "customer_id": customer_id, "kind": "spend", "credits": credits,
        "available_delta": -credits, "held_delta": 0, "debt_delta": 0, "balance_after": after_credits,
        "lot_id": None, "hold_id": None, "feature": feature, "source": None, "reason": None,
        "fingerprint": _spend_fingerprint(customer_id, credits, feature),
        "created_at": now,
    }
    entry_pk = repo.write_spend(session, entry=entry, draws=[(d.lot_id, d.credits) for d in draws], now=now)
    if entry_pk is None:
        return None
    _spent(account, draws, after_credits=after_credits)
    repo.forget_account(session, customer_id=customer_id)
    CREDITS_MOVED.labels("spend").inc(credits)
    return EntryResult(
        entry_id=entry_id, kind="spend", customer_id=customer_id, credits=credits, available_delta=-credits,
        held_delta=0, debt_delta=0, balance_after=after_credits, lot_id=None, hold_id=None, feature=feature,
        created_at=now, pk=entry_pk,
    )


@functools.lru_cache(maxsize=4096)
def _spend_fingerprint(customer_id: int, credits: int, feature: str | None) -> str:
    """`fingerprint` of a spend, kept: a hot account spends the same cost on the same feature again and
    again, and the JSON and the hash are a twentieth of its Python time under the lock."""
    return fingerprint(op="spend", customer_id=customer_id, credits=credits, feature=feature)


def _spent(account: repo.LockedAccount, draws: list[core.Draw], *, after_credits: int) -> None:
    """Keep the transaction's copy of the locked account as the statements left it."""
    taken = {draw.lot_id: draw.credits for draw in draws}
    account.available_credits = after_credits
    lots: list[core.LotView] = []
    for lot in account.live_lots:  # only the drawn lots change (an account may have many)
        drawn = taken.get(lot.lot_id)
        if drawn is None:
            lots.append(lot)
        elif lot.remaining_credits > drawn:
            lots.append(replace(lot, remaining_credits=lot.remaining_credits - drawn))
    account.live_lots = lots
