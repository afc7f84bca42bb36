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
import os
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from coinslot.models.lease import Leased

__all__ = ["backoff_s", "claim_due", "held_lease", "new_worker_id", "start_loop_thread"]

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
