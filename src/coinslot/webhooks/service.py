"""What operators ask of the inbox: list, show, find the dead (the CLI, the API and the admin console).

The inbox is a queue (`coinslot.queue`, kind STRIPE_EVENTS): these are its reads, with the attempts a
Stripe event keeps beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.errors import NotFound
from coinslot.models import WebhookAttempt, WebhookEvent
from coinslot.queue import repository as queue_repository
from coinslot.queue import service as queue
from coinslot.queue.kinds import STRIPE_EVENTS
from coinslot.webhooks import repository

__all__ = ["EventDetail", "backlog", "counts", "dead_count", "dead_event_ids", "get_event", "list_events"]


@dataclass(frozen=True, slots=True)
class EventDetail:
    event: WebhookEvent
    attempts: Sequence[WebhookAttempt]


def list_events(
    session: Session, *, status: str | None = None, event_type: str | None = None,
    object_id: str | None = None, before_id: int | None = None, limit: int = 50,
) -> Sequence[WebhookEvent]:
    """Newest first, filtered by status, type and/or the Stripe object they are about; `before_id` pages."""
    return queue.list_rows(session, STRIPE_EVENTS, status=status, type_=event_type, before_id=before_id,
                           limit=limit, object_id=object_id)


def get_event(session: Session, *, event_ref: str) -> EventDetail:
    """One event by local id or Stripe id (evt_...), with its attempts."""
    event = queue_repository.get(session, STRIPE_EVENTS, ref=event_ref)
    if event is None:
        raise NotFound(f"no stored Stripe event {event_ref}")
    return EventDetail(event, repository.attempts_of(session, event_id=event.id))


def dead_event_ids(session: Session) -> list[int]:
    return queue.dead_ids(session, STRIPE_EVENTS)


def counts(session: Session) -> dict[str, queue.StatusCount]:
    """Events in each status: exact for the unfinished and the dead, capped for processed and ignored
    (`queue.counts`)."""
    return queue.counts(session, STRIPE_EVENTS)


def dead_count(session: Session) -> int:
    """Dead-lettered events, exactly."""
    return queue.dead_count(session, STRIPE_EVENTS)


def backlog(session: Session) -> queue_repository.Backlog:
    """Events received and not applied yet (new, being applied, waiting to retry), and the oldest's age."""
    return queue_repository.backlog(session, STRIPE_EVENTS)
