"""The webhook pipeline's own queries (the inbox as a queue: `coinslot.queue`, kind STRIPE_EVENTS)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coinslot.db import PreparedInSession
from coinslot.models import SyncCursor, WebhookAttempt, WebhookEvent

__all__ = [
    "Finished", "add_attempts", "attempts_of", "cursor_for_update", "held_leases", "insert_events",
    "mark_finished", "newest_stored_created",
]


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_events(session: Session, *, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert event rows (`STORED_COLUMNS` each, Stripe ids distinct) but those whose Stripe id is stored
    already; the Stripe ids inserted. One prepared statement run for every row (pipelined on PostgreSQL:
    one wait for a batch): the ORM's insert, compiled anew for every event, was 40% of a webhook receipt's
    CPU (docs/benchmarks.md, webhook receive)."""
    statement = _INSERT_EVENT_PG if session.get_bind().dialect.name == "postgresql" else _INSERT_EVENT_SQLITE
    return {found[0] for found in PreparedInSession.many_rows(session, statement, list(rows))}


# The columns the inbox writes; the others start NULL.
STORED_COLUMNS = ("stripe_event_id", "type", "livemode", "api_version", "object_id", "payload",
                  "stripe_created", "received_at", "status", "attempts", "next_attempt_at")
_events = cast(Table, WebhookEvent.__table__)
_STORED_VALUES = {name: bindparam(name, type_=_events.c[name].type) for name in STORED_COLUMNS}
_INSERT_EVENT_SQLITE = (
    sqlite.insert(_events).values(_STORED_VALUES)
    .on_conflict_do_nothing(index_elements=[_events.c.stripe_event_id]).returning(_events.c.stripe_event_id)
)
_INSERT_EVENT_PG = (
    postgresql.insert(_events).values(_STORED_VALUES)
    .on_conflict_do_nothing(index_elements=[_events.c.stripe_event_id]).returning(_events.c.stripe_event_id)
)


def cursor_for_update(session: Session, *, name: str, create: bool = False) -> SyncCursor | None:
    """A list's cursor (sync_cursors), locked; made first when `create` and missing."""
    if create:
        session.execute(_insert(session)(SyncCursor).values(name=name)
                        .on_conflict_do_nothing(index_elements=["name"]))
    return session.get(SyncCursor, name, with_for_update=True, populate_existing=True)


def newest_stored_created(session: Session, *, livemode: bool) -> int | None:
    """The `created` time of the newest Stripe event stored (of one mode): where a backfill may start."""
    query = select(func.max(WebhookEvent.stripe_created)).where(WebhookEvent.livemode == livemode)
    value = session.execute(query).scalar_one_or_none()
    return int(value) if value is not None else None


def attempts_of(session: Session, *, event_id: int) -> Sequence[WebhookAttempt]:
    query = select(WebhookAttempt).where(WebhookAttempt.event_id == event_id).order_by(WebhookAttempt.id)
    return session.scalars(query).all()


# --- a batch's bookkeeping, in set-based statements ---------------------------------------------


def held_leases(session: Session, *, row_ids: Sequence[int], worker: str, leased: str) -> set[int]:
    """Of `row_ids`, the events `worker` still holds, locked until the batch commits (one statement;
    a worker whose lease was taken over finds its events missing here and applies nothing of them)."""
    query = (select(WebhookEvent.id)
             .where(WebhookEvent.id.in_(row_ids), WebhookEvent.status == leased,
                    WebhookEvent.locked_by == worker)
             .with_for_update())
    return set(session.scalars(query))


@dataclass(frozen=True, slots=True)
class Finished:
    """One event of a batch done: its row, its attempt number and its outcome."""

    row_id: int
    attempt: int
    outcome: str


# The batch's bookkeeping names no ORM objects: Core statements on the tables skip the ORM's bulk layer.
_attempts = cast(Table, WebhookAttempt.__table__)


def mark_finished(session: Session, finished: Sequence[Finished], *, now: dt.datetime) -> None:
    """The processed marks of a batch: one UPDATE per outcome (most batches have one or two)."""
    by_outcome: dict[str, list[int]] = {}
    for item in finished:
        by_outcome.setdefault(item.outcome, []).append(item.row_id)
    for outcome, row_ids in by_outcome.items():
        session.execute(
            update(_events).where(_events.c.id.in_(row_ids))
            .values(status=outcome, processed_at=now, last_error=None, locked_by=None, locked_until=None,
                    next_attempt_at=None)
        )


def add_attempts(session: Session, finished: Sequence[Finished], *, worker: str, started_at: dt.datetime,
                 now: dt.datetime) -> None:
    """One attempt row per finished event, in one multi-row INSERT."""
    if finished:
        session.execute(insert(_attempts), [
            {"event_id": item.row_id, "number": item.attempt, "worker": worker, "started_at": started_at,
             "finished_at": now, "outcome": item.outcome, "error": None}
            for item in finished
        ])
