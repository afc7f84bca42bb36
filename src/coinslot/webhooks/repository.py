"""The webhook pipeline's own queries (the inbox as a queue: `coinslot.queue`, kind STRIPE_EVENTS)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot.models import WebhookAttempt, WebhookEvent

__all__ = ["attempts_of", "newest_stored_created"]

def newest_stored_created(session: Session, *, livemode: bool) -> int | None:
    """The `created` time of the newest Stripe event stored (of one mode): where a backfill may start."""
    query = select(func.max(WebhookEvent.stripe_created)).where(WebhookEvent.livemode == livemode)
    value = session.execute(query).scalar_one_or_none()
    return int(value) if value is not None else None


def attempts_of(session: Session, *, event_id: int) -> Sequence[WebhookAttempt]:
    query = select(WebhookAttempt).where(WebhookAttempt.event_id == event_id).order_by(WebhookAttempt.id)
    return session.scalars(query).all()
