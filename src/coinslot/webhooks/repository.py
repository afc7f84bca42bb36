"""Every SQL query of the webhook pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot import leases
from coinslot.limits import BIGINT_MAX
from coinslot.models import WebhookAttempt, WebhookEvent

__all__ = [
    "UNFINISHED",
    "attempts_of",
    "backlog",
    "claim_due",
    "count_by_status",
    "get",
    "held_lease",
    "newest_stored_created",
    "release",
    "renew_leases",
    "search",
]

LEASED = "processing"
UNFINISHED = ("received", "processing", "failed")


def claim_due(
    session: Session, *, now: dt.datetime, worker: str, lease_until: dt.datetime, limit: int
) -> list[WebhookEvent]:
    """Lease up to `limit` due events to `worker`, oldest Stripe event first: new or failed ones
    whose time has come, and those whose lease ran out (a worker died holding them)."""
    return leases.claim_due(
        session,
        WebhookEvent,
        ready=("received", "failed"),
        leased="processing",
        now=now,
        worker=worker,
        lease_until=lease_until,
        limit=limit,
        order_by=(WebhookEvent.stripe_created.asc(), WebhookEvent.id.asc()),
    )


def renew_leases(session: Session, *, worker: str, lease_until: dt.datetime) -> int:
    """The worker's heartbeat: its leases now run until `lease_until`."""
    return leases.renew(session, WebhookEvent, worker=worker, leased=LEASED, lease_until=lease_until)


def release(session: Session, *, event_ids: Sequence[int], worker: str, now: dt.datetime) -> int:
    """Hand back claimed events the worker will not apply (it is stopping): due again at once."""
    return leases.release(session, WebhookEvent, row_ids=event_ids, worker=worker, leased=LEASED,
                          ready="received", now=now)


def backlog(session: Session) -> leases.Backlog:
    """Events not applied yet, and when the oldest of them was received."""
    return leases.backlog(session, WebhookEvent, unfinished=UNFINISHED, created=WebhookEvent.received_at)


def newest_stored_created(session: Session, *, livemode: bool) -> int | None:
    """The `created` time of the newest Stripe event stored (of one mode): where a backfill may start."""
    query = select(func.max(WebhookEvent.stripe_created)).where(WebhookEvent.livemode == livemode)
    value = session.execute(query).scalar_one_or_none()
    return int(value) if value is not None else None


def held_lease(session: Session, *, event_id: int, worker: str) -> WebhookEvent | None:
    """The event, locked, if `worker` still holds its lease; None when the lease was lost to another."""
    return leases.held_lease(session, WebhookEvent, row_id=event_id, worker=worker, leased="processing")


def get(session: Session, *, event_ref: str | int, for_update: bool = False) -> WebhookEvent | None:
    """By local id (number) or Stripe id (evt_...)."""
    query = select(WebhookEvent)
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if isinstance(event_ref, int) or str(event_ref).isdecimal():
        if not 0 < int(event_ref) <= BIGINT_MAX:  # a number no id can be: the driver would overflow (500)
            return None
        query = query.where(WebhookEvent.id == int(event_ref))
    else:
        query = query.where(WebhookEvent.stripe_event_id == event_ref)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def search(
    session: Session, *, status: str | None = None, event_type: str | None = None,
    object_id: str | None = None, before_id: int | None = None, limit: int = 50,
) -> Sequence[WebhookEvent]:
    """Newest first; `before_id` pages on (keyset: a page costs the same however deep)."""
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if status:
        query = query.where(WebhookEvent.status == status)
    if event_type:
        query = query.where(WebhookEvent.type == event_type)
    if object_id:
        query = query.where(WebhookEvent.object_id == object_id)
    if before_id is not None:
        query = query.where(WebhookEvent.id < before_id)
    return session.scalars(query).all()


def attempts_of(session: Session, *, event_id: int) -> Sequence[WebhookAttempt]:
    query = select(WebhookAttempt).where(WebhookAttempt.event_id == event_id).order_by(WebhookAttempt.id)
    return session.scalars(query).all()


def count_by_status(session: Session) -> dict[str, int]:
    query = select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
    return {str(status): int(count) for status, count in session.execute(query)}


def ids_with_status(session: Session, *, status: str) -> list[int]:
    query = select(WebhookEvent.id).where(WebhookEvent.status == status).order_by(WebhookEvent.id)
    return list(session.scalars(query))
