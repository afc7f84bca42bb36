"""Leases on queue rows: how several workers share a table of due work, coordinated by the database alone.

Used by the Stripe-event worker (`webhook_events`) and the outbox sender (`outbox`):

    claim (short tx)   due rows -> `leased`, locked_by = worker, locked_until = now + lease, attempts + 1
    work               outside any transaction (Stripe reads, HTTP to the host)
    finish (tx)        only while `held_lease` still finds the row leased to this worker

A worker killed mid-row leaves the row leased until `locked_until`, then any
worker reclaims it; a worker that comes back after losing its lease finds
`held_lease` empty and records nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from coinslot.models.lease import Leased
from coinslot.observability import LEASE_TAKEOVERS

__all__ = [
    "Backlog",
    "Heartbeat",
    "backlog",
    "backoff_s",
    "claim_due",
    "held_lease",
    "new_worker_id",
    "release",
    "renew",
    "start_loop_thread",
]

log = logging.getLogger("coinslot.leases")

RowT = TypeVar("RowT", bound=Leased)


def new_worker_id() -> str:
    """host:pid:random, so an operator can tell which process holds a lease."""
    return f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_s(*, base_s: float, cap_s: float, attempts: int, seed: str) -> float:
    """Exponential delay before try `attempts`+1, capped, with jitter between half and all of it.

    The jitter is seeded by the row's own id and the attempt number: spread
    across rows (no thundering herd after an outage) yet the same on every run.
    """
    ceiling = min(cap_s, base_s * float(2 ** max(attempts - 1, 0)))
    rng = random.Random(f"{seed}:{attempts}")
    return ceiling * (0.5 + 0.5 * rng.random())


def claim_due(
    session: Session,
    model: type[RowT],
    *,
    ready: Sequence[str],
    leased: str,
    now: dt.datetime,
    worker: str,
    lease_until: dt.datetime,
    limit: int,
    order_by: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
) -> list[RowT]:
    """Lease up to `limit` due rows to `worker`: rows in a `ready` status whose time has come, and
    `leased` rows whose lease ran out (their worker died holding them).

    PostgreSQL: SKIP LOCKED lets several workers claim side by side, each a
    different set. SQLite: the unit of work began with BEGIN IMMEDIATE, so one
    claim runs at a time.
    """
    due = or_(
        and_(model.status.in_(ready), model.next_attempt_at <= now),
        and_(model.status == leased, model.locked_until < now),
    )
    query = select(model).where(due).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    taken_over = [row for row in rows if row.status == leased]
    if taken_over:
        LEASE_TAKEOVERS.labels(model.__tablename__).inc(len(taken_over))  # type: ignore[attr-defined]
        log.warning("took over rows whose lease ran out", extra={
            "queue": model.__tablename__, "rows": len(taken_over),  # type: ignore[attr-defined]
            "from_workers": sorted({str(row.locked_by) for row in taken_over}), "worker": worker})
    for row in rows:
        row.status = leased
        row.locked_by = worker
        row.locked_until = lease_until
        row.attempts += 1
    return rows


def held_lease(session: Session, model: type[RowT], *, row_id: int, worker: str, leased: str) -> RowT | None:
    """The row, locked, if `worker` still holds its lease; None when the lease was lost to another."""
    row = session.get(model, row_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != leased or row.locked_by != worker:
        return None
    return row


def renew(
    session: Session, model: type[RowT], *, worker: str, leased: str, lease_until: dt.datetime
) -> int:
    """The heartbeat: extend every lease `worker` holds to `lease_until`; the number renewed.

    Only rows still leased to `worker`: a lease another worker took over stays theirs.
    """
    statement = (
        update(model)
        .where(model.status == leased, model.locked_by == worker)
        .values(locked_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def release(session: Session, model: type[RowT], *, row_ids: Sequence[int], worker: str, leased: str,
            ready: str, now: dt.datetime) -> int:
    """Give back rows `worker` claimed and will not work on (it is stopping): due again now, with the
    attempt the claim counted taken back. Rows it no longer holds are left alone."""
    if not row_ids:
        return 0
    statement = (
        update(model)
        .where(model.id.in_(row_ids), model.status == leased, model.locked_by == worker)  # type: ignore[attr-defined]
        .values(status=ready, locked_by=None, locked_until=None, next_attempt_at=now,
                attempts=model.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Backlog:
    """Rows not finished yet (new, leased, failed and waiting to retry) and when the oldest was made."""

    count: int
    oldest_at: dt.datetime | None


def backlog(
    session: Session,
    model: type[RowT],
    *,
    unfinished: Sequence[str],
    created: QueryableAttribute[dt.datetime],
) -> Backlog:
    """For the gauges: how many rows of `model` are unfinished, and the oldest one's `created` time."""
    count, oldest = session.execute(
        select(func.count(), func.min(created)).where(model.status.in_(unfinished))
    ).one()
    return Backlog(int(count), oldest)


class Heartbeat:
    """Renews a worker's leases every `interval_s` in a thread, until stopped.

    `renew_leases()` is the work (one short transaction); a failed renewal is logged and tried again
    at the next beat: the lease is long enough (three beats) to survive one or two.
    """

    def __init__(self, name: str, renew_leases: Callable[[], int], *, interval_s: float) -> None:
        self._renew = renew_leases
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._renew()
            except Exception:  # e.g. the database restarting
                log.exception("lease heartbeat failed; trying again at the next beat")


def start_loop_thread(name: str, loop: Callable[[threading.Event], None]) -> Callable[[], None]:
    """Run `loop(stop)` in a daemon thread beside the API; the returned function stops and joins it.

    The webhook worker and the outbound sender both run this way inside `coinslot serve`.
    """
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop,), name=name, daemon=True)
    thread.start()

    def stop_loop() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_loop
