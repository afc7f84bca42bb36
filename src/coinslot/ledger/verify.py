"""`coinslot credits verify`: recompute every balance from the entries and the lots, and list what disagrees.

Part of the ledger service. The cache is written in the same transaction as the
entries, so a clean ledger always verifies; anything listed here is a bug or a
manual edit of the tables, and names the customer, the figure and both values.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.ledger import repository as repo

__all__ = ["Discrepancy", "verify"]


@dataclass(frozen=True, slots=True)
class Discrepancy:
    customer_id: int
    what: str  # e.g. "available_credits vs entries", "lot 12 remaining vs movements"
    expected: int  # recomputed from the entries / movements
    actual: int  # stored

    def __str__(self) -> str:
        return f"customer {self.customer_id}: {self.what}: expected {self.expected}, stored {self.actual}"


def verify(session: Session) -> list[Discrepancy]:
    """Every disagreement between the balance cache, the entries, the lots and the holds (empty = exact)."""
    found: list[Discrepancy] = []
    found += _balances_against_entries(session)
    for customer, lot, remaining, moved, original in repo.lots_off_their_movements(session):
        found.append(Discrepancy(customer, f"lot {lot} remaining (original {original}) vs movements",
                                 moved, remaining))
    for customer, entry_id, delta, moved in repo.entries_off_their_movements(session):
        found.append(Discrepancy(customer, f"entry {entry_id} available_delta vs movements", moved, delta))
    found += _running_balances(session)
    found += _overage_entries(session)
    return found


def _overage_entries(session: Session) -> list[Discrepancy]:
    """An overage entry draws at most its cost, and bills at least one credit beyond the balance; it
    never holds credits or makes debt (the balance stays at zero or above; the rest is billed)."""
    found: list[Discrepancy] = []
    for customer, _pk, entry_id, credits, available, held, debt in repo.overage_entries(session):
        beyond = credits + available
        if not 0 < beyond <= credits:
            found.append(Discrepancy(customer, f"overage entry {entry_id} credits beyond the balance "
                                               f"(cost {credits}, drawn {-available})", credits, beyond))
        if held or debt:
            found.append(Discrepancy(customer, f"overage entry {entry_id} held_delta + debt_delta", 0,
                                     held + debt))
    return found


def _balances_against_entries(session: Session) -> list[Discrepancy]:
    found: list[Discrepancy] = []
    balances = repo.all_balances(session)
    sums = repo.entry_sums(session)
    lots = repo.lot_sums(session)
    holds = repo.pending_hold_sums(session)
    for customer in sorted(set(balances) | set(sums) | set(lots)):
        row = balances.get(customer)
        stored = (row.available_credits, row.held_credits, row.debt_credits) if row else (0, 0, 0)
        available, held, debt = sums.get(customer, (0, 0, 0))
        checks = [
            ("available_credits vs entries", available, stored[0]),
            ("held_credits vs entries", held, stored[1]),
            ("debt_credits vs entries", debt, stored[2]),
            ("available_credits vs lots", lots.get(customer, 0), stored[0]),
            ("held_credits vs pending holds", holds.get(customer, 0), stored[1]),
        ]
        found += [Discrepancy(customer, what, expected, actual) for what, expected, actual in checks
                  if expected != actual]
        names = ("available_credits", "held_credits", "debt_credits")
        found += [Discrepancy(customer, f"{name} is negative", 0, value)
                  for name, value in zip(names, stored, strict=True) if value < 0]
    return found


def _running_balances(session: Session) -> list[Discrepancy]:
    """Each entry's balance_after is the running sum of the customer's entries up to it."""
    found: list[Discrepancy] = []
    current_customer = None
    running = 0
    for customer, entry_id, delta, balance_after in repo.entries_in_order(session):
        if customer != current_customer:
            current_customer, running = customer, 0
        running += delta
        if running != balance_after:
            found.append(Discrepancy(customer, f"entry {entry_id} balance_after vs running sum", running,
                                     balance_after))
            running = balance_after  # report each break once, not every entry after it
    return found
