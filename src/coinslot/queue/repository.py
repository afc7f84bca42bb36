"""Every query of the queues: claim with a lease, check it, renew it, hand rows back, and read them.

Claims take rows FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers claim side by side, each a
different set; on SQLite the unit of work began with BEGIN IMMEDIATE, so one claim runs at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from coinslot.limits import BIGINT_MAX
from coinslot.models.lease import Leased
from coinslot.observability import LEASE_TAKEOVERS
from coinslot.queue.kinds import QueueKind

__all__ = [
    "Backlog", "backlog", "claim_due", "claim_due_columns", "count_by_status", "count_with_status", "get",
    "held_lease", "ids_with_status", "release", "renew", "search",
]

log = logging.getLogger("coinslot.queue")

RowT = TypeVar("RowT", bound=Leased)


def _id(kind: QueueKind[Any]) -> Any:
    return kind.model.id


def claim_due(session: Session, kind: QueueKind[RowT], *, now: dt.datetime, worker: str,
              lease_until: dt.datetime, limit: int) -> list[RowT]:
    """Lease up to `limit` due rows to `worker`, in the queue's order: ready rows whose time has come,
    and leased rows whose lease ran out (their worker died holding them). Each claim counts an attempt."""
    model = kind.model
    query = select(model).where(_due(kind, now)).order_by(*kind.order).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    _note_takeovers(kind, [(row.status, row.locked_by) for row in rows], worker=worker)
    for row in rows:
        row.status = kind.leased
        row.locked_by = worker
        row.locked_until = lease_until
        row.attempts += 1
    return rows


def claim_due_columns(session: Session, kind: QueueKind[Any], columns: Sequence[Any], *, now: dt.datetime,
                      worker: str, lease_until: dt.datetime, limit: int) -> list[Any]:
    """`claim_due` in two set-based statements, for a worker that needs a few of the rows' columns and
    no ORM objects (the webhook worker: loading and flushing 50 rows' objects per batch was a tenth of
    an ignored event's cost): pick the due ids (locked, SKIP LOCKED on PostgreSQL), then lease them and
    return `columns` as they are after the claim (attempts counted), in the queue's order."""
    model = kind.model
    query = select(model.id, model.status, model.locked_by).where(_due(kind, now)).order_by(*kind.order)
    query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    picked = session.execute(query).all()
    if not picked:
        return []
    _note_takeovers(kind, [(status, locked_by) for _id, status, locked_by in picked], worker=worker)
    claimed = (
        update(model).where(model.id.in_([row_id for row_id, _status, _by in picked]))
        .values(status=kind.leased, locked_by=worker, locked_until=lease_until, attempts=model.attempts + 1)
        .returning(model.id, *columns)
        .execution_options(synchronize_session=False)
    )
    by_id = {row[0]: row[1:] for row in session.execute(claimed)}
    return [by_id[row_id] for row_id, _status, _by in picked]


def _due(kind: QueueKind[Any], now: dt.datetime) -> Any:
    """Ready rows whose time has come, and leased rows whose lease ran out (their worker died holding it)."""
    model = kind.model
    return or_(
        and_(model.status.in_(kind.ready), model.next_attempt_at <= now),
        and_(model.status == kind.leased, model.locked_until < now),
    )


def _note_takeovers(kind: QueueKind[Any], claimed: list[tuple[str, str | None]], *, worker: str) -> None:
    """Count and log the claimed rows (status, locked_by) that another worker held until its lease ran out."""
    taken_over = [locked_by for status, locked_by in claimed if status == kind.leased]
    if taken_over:
        LEASE_TAKEOVERS.labels(kind.name).inc(len(taken_over))
        log.warning("took over rows whose lease ran out", extra={
            "queue": kind.name, "rows": len(taken_over),
            "from_workers": sorted({str(locked_by) for locked_by in taken_over}), "worker": worker})


def held_lease(session: Session, kind: QueueKind[RowT], *, row_id: int, worker: str) -> RowT | None:
    """The row, locked, if `worker` still holds its lease; None when the lease was lost to another."""
    row = session.get(kind.model, row_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != kind.leased or row.locked_by != worker:
        return None
    return row


def renew(session: Session, kind: QueueKind[Any], *, worker: str, lease_until: dt.datetime) -> int:
    """The heartbeat: extend every lease `worker` holds to `lease_until` (only rows still leased to it)."""
    statement = (
        update(kind.model)
        .where(kind.model.status == kind.leased, kind.model.locked_by == worker)
        .values(locked_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def release(session: Session, kind: QueueKind[Any], *, row_ids: Sequence[int], worker: str,
            now: dt.datetime) -> int:
    """Give back rows `worker` claimed and will not work on (it is stopping): due again now, with the
    attempt the claim counted taken back. Rows it no longer holds are left alone."""
    if not row_ids:
        return 0
    model = kind.model
    statement = (
        update(model)
        .where(_id(kind).in_(row_ids), model.status == kind.leased, model.locked_by == worker)
        .values(status=kind.new, locked_by=None, locked_until=None, next_attempt_at=now,
                attempts=model.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Backlog:
    """Rows not finished yet (new, leased, failed and waiting to retry) and when the oldest was made."""

    count: int
    oldest_at: dt.datetime | None


def backlog(session: Session, kind: QueueKind[Any]) -> Backlog:
    """For the gauges: how many rows are unfinished, and the oldest one's creation time."""
    count, oldest = session.execute(
        select(func.count(), func.min(kind.created)).where(kind.model.status.in_(kind.unfinished))
    ).one()
    return Backlog(int(count), oldest)


def get(session: Session, kind: QueueKind[RowT], *, ref: str | int, for_update: bool = False) -> RowT | None:
    """A row by its local id (a number) or its public id (evt_..., msg_...)."""
    query = select(kind.model)
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if isinstance(ref, int) or str(ref).isdecimal():
        if not 0 < int(ref) <= BIGINT_MAX:  # a number no id can be: the driver would overflow (500)
            return None
        query = query.where(_id(kind) == int(ref))
    else:
        query = query.where(kind.public_id == ref)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def search(session: Session, kind: QueueKind[RowT], *, status: str | None = None, type_: str | None = None,
           before_id: int | None = None, limit: int = 50, **equal: Any) -> Sequence[RowT]:
    """Newest first, filtered by status, type and any column equal to a value; `before_id` pages on
    (keyset: a page costs the same however deep)."""
    query = select(kind.model).order_by(_id(kind).desc()).limit(limit)
    if status:
        query = query.where(kind.model.status == status)
    if type_:
        query = query.where(kind.type_column == type_)
    for column, value in equal.items():
        if value is not None:
            query = query.where(getattr(kind.model, column) == value)
    if before_id is not None:
        query = query.where(_id(kind) < before_id)
    return session.scalars(query).all()


def count_by_status(session: Session, kind: QueueKind[Any], *, exact: Collection[str],
                    cap: int) -> dict[str, int]:
    """Rows in each status present: exact for the statuses in `exact`, at most `cap` for the others.

    Never a scan of the table: a GROUP BY over every row was one (a million finished events read
    for a few dead ones). Each count here reads the status index, the capped ones `cap` entries at
    most, so the cost follows the statuses counted exactly, not the history kept."""
    return {status: count_with_status(session, kind, status=status, limit=None if status in exact else cap)
            for status in _statuses_present(session, kind)}


def count_with_status(session: Session, kind: QueueKind[Any], *, status: str,
                      limit: int | None = None) -> int:
    """How many rows are in `status`, read from the status index; at most `limit` when given."""
    # The status itself is selected, not the id: the index holds it, so the count is an index-only
    # read instead of a visit to a table row per entry.
    rows = select(kind.model.status).where(kind.model.status == status)
    if limit is not None:
        # In the order of the (status, next_attempt_at) index every queue has: without it PostgreSQL
        # takes the first `limit` matches from a scan of the table, expecting them spread evenly,
        # which reads most of it when they sit at its end (a status seen only lately).
        rows = rows.order_by(kind.model.next_attempt_at).limit(limit)
    return int(session.scalar(select(func.count()).select_from(rows.subquery())) or 0)


def _statuses_present(session: Session, kind: QueueKind[Any]) -> list[str]:
    """The distinct statuses, found by a skip scan: each step is the next status after the last one
    in the status index (a handful of index reads, where SELECT DISTINCT would read every row)."""
    status = kind.model.status
    present = select(func.min(status).label("status")).cte("present", recursive=True)
    following = select(func.min(status)).where(status > present.c.status).scalar_subquery()
    present = present.union_all(select(following).where(present.c.status.is_not(None)))
    query = select(present.c.status).where(present.c.status.is_not(None))
    return [str(found) for found in session.scalars(query)]


def ids_with_status(session: Session, kind: QueueKind[Any], *, status: str) -> list[int]:
    query = select(_id(kind)).where(kind.model.status == status).order_by(_id(kind))
    return list(session.scalars(query))
