"""Every SQL query of the webhook pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from coinslot.models import WebhookAttempt, WebhookEvent

__all__ = ["attempts_of", "claim_due", "count_by_status", "get", "held_lease", "search"]


def claim_due(
    session: Session, *, now: dt.datetime, worker: str, lease_until: dt.datetime, limit: int
) -> list[WebhookEvent]:
    """Lease up to `limit` due events to `worker`: new or failed ones whose time has come, and
    those whose lease ran out (a worker died holding them).

    PostgreSQL: SKIP LOCKED lets several workers claim side by side, each a
    different set. SQLite: the unit of work began with BEGIN IMMEDIATE, so one
    claim runs at a time.
    """
    due = or_(
        and_(WebhookEvent.status.in_(("received", "failed")), WebhookEvent.next_attempt_at <= now),
        and_(WebhookEvent.status == "processing", WebhookEvent.locked_until < now),
    )
    query = (
        select(WebhookEvent).where(due).order_by(WebhookEvent.stripe_created, WebhookEvent.id).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    events = list(session.scalars(query))
    for event in events:
        event.status = "processing"
        event.locked_by = worker
        event.locked_until = lease_until
        event.attempts += 1
    return events


def held_lease(session: Session, *, event_id: int, worker: str) -> WebhookEvent | None:
    """The event, locked, if `worker` still holds its lease; None when the lease was lost to another."""
    query = select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update()
    event = session.scalars(query).one_or_none()
    if event is None or event.status != "processing" or event.locked_by != worker:
        return None
    return event


def get(session: Session, *, event_ref: str | int, for_update: bool = False) -> WebhookEvent | None:
    """By local id (number) or Stripe id (evt_...)."""
    query = select(WebhookEvent)
    if isinstance(event_ref, int) or str(event_ref).isdigit():
        query = query.where(WebhookEvent.id == int(event_ref))
    else:
        query = query.where(WebhookEvent.stripe_event_id == event_ref)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def search(
    session: Session, *, status: str | None = None, event_type: str | None = None, limit: int = 50
) -> Sequence[WebhookEvent]:
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if status:
        query = query.where(WebhookEvent.status == status)
    if event_type:
        query = query.where(WebhookEvent.type == event_type)
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
