"""What operators do to a queue (the CLI and the admin console call these): list, count, show, replay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from coinslot.errors import Conflict, NotFound
from coinslot.models.lease import Leased
from coinslot.queue import repository
from coinslot.queue.kinds import QueueKind

__all__ = ["counts", "dead_ids", "get", "list_rows", "replay"]

RowT = TypeVar("RowT", bound=Leased)


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


def counts(session: Session, kind: QueueKind[Any]) -> dict[str, int]:
    return repository.count_by_status(session, kind)


def dead_ids(session: Session, kind: QueueKind[Any]) -> list[int]:
    return repository.ids_with_status(session, kind, status="dead")


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
