"""What operators do to a queue (the CLI and the admin console call these): list, count, show, replay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from coinslot.errors import Conflict, NotFound
from coinslot.models.lease import Leased
from coinslot.queue import repository
from coinslot.queue.kinds import QueueKind

__all__ = [
    "COUNT_CAP", "StatusCount", "actionable", "counts", "dead_count", "dead_ids", "get", "list_rows",
    "replay",
]

RowT = TypeVar("RowT", bound=Leased)

DEAD = "dead"  # out of attempts: waits for an operator's replay
# Finished rows only grow (a year of Stripe events is millions processed): beyond this many, a status's
# count is shown as "10,000+". Counting them all was a scan of the whole table on every console page;
# nobody acts on the exact number of events processed, while every dead or waiting row is work.
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many rows a status has: exactly `rows`, or, when `at_least`, `rows` or more."""

    rows: int
    at_least: bool = False

    def __str__(self) -> str:
        return f"{self.rows:,}+" if self.at_least else f"{self.rows:,}"


def actionable(kind: QueueKind[Any]) -> tuple[str, ...]:
    """The statuses an operator may have to act on, always counted exactly: not done yet (new, leased,
    failed and waiting to retry) and dead. They stay few while the workers keep up."""
    return (*kind.unfinished, DEAD)


def list_rows(session: Session, kind: QueueKind[RowT], *, status: str | None = None, type_: str | None = None,
              before_id: int | None = None, limit: int = 50, **equal: Any) -> Sequence[RowT]:
    """Newest first, filtered; `before_id` pages on."""
    return repository.search(session, kind, status=status, type_=type_, before_id=before_id,
                             limit=min(max(limit, 1), 1001), **equal)


def get(session: Session, kind: QueueKind[RowT], *, ref: str | int) -> RowT:
    """A row by local id or public id; NotFound naming the queue."""
    row = repository.get(session, kind, ref=ref)
    if row is None:
        raise NotFound(f"no {kind.name} row {ref}")
    return row


def counts(session: Session, kind: QueueKind[Any]) -> dict[str, StatusCount]:
    """Rows in each status present, for the operator's screens: exact for the statuses an operator acts
    on (`actionable`), and for the others (finished work: processed, ignored, delivered...) exact up to
    COUNT_CAP, then "at least COUNT_CAP" (shown as 10,000+)."""
    exact = actionable(kind)
    found = repository.count_by_status(session, kind, exact=exact, cap=COUNT_CAP)
    return {status: StatusCount(rows, at_least=status not in exact and rows >= COUNT_CAP)
            for status, rows in found.items()}


def dead_count(session: Session, kind: QueueKind[Any]) -> int:
    """How many rows are dead, exactly (the Prometheus gauges read this, not `counts`)."""
    return repository.count_with_status(session, kind, status=DEAD)


def dead_ids(session: Session, kind: QueueKind[Any]) -> list[int]:
    return repository.ids_with_status(session, kind, status=DEAD)


def replay(session: Session, kind: QueueKind[RowT], *, ref: str | int, now: dt.datetime) -> RowT:
    """Make a row due again now, with a fresh count of attempts (its history is kept). Refused while a
    worker holds it. Due at once for every worker whatever its clock: never later than the row was made,
    as an operator's CLI runs on the wall clock while a worker in test mode may run on a Stripe test
    clock's earlier time."""
    row = repository.get(session, kind, ref=ref, for_update=True)
    if row is None:
        raise NotFound(f"no {kind.name} row {ref}")
    if row.status == kind.leased and row.locked_until is not None and row.locked_until > now:
        raise Conflict(f"{kind.name} row {ref} is being worked on by {row.locked_by}")
    row.status = kind.new
    row.attempts = 0
    row.next_attempt_at = min(now, getattr(row, kind.created.key))
    row.locked_by = row.locked_until = None
    return row
