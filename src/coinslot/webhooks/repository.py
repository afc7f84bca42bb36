"""The webhook pipeline's own queries (the inbox as a queue: `coinslot.queue`, kind STRIPE_EVENTS)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coinslot.models import SyncCursor, WebhookAttempt, WebhookEvent

__all__ = ["attempts_of", "cursor_for_update", "insert_event", "newest_stored_created"]


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_event(session: Session, *, values: dict[str, Any]) -> bool:
    """Insert an event row unless its Stripe id is stored already; True when it is new."""
    statement = (_insert(session)(WebhookEvent).values(**values)
                 .on_conflict_do_nothing(index_elements=["stripe_event_id"]).returning(WebhookEvent.id))
    return session.execute(statement).scalar_one_or_none() is not None


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
