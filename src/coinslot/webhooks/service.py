"""What operators ask of the inbox: list, show, find the dead (the CLI and the admin console call these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot import leases
from coinslot.errors import NotFound
from coinslot.models import WebhookAttempt, WebhookEvent
from coinslot.webhooks import repository

__all__ = ["EventDetail", "backlog", "counts", "dead_event_ids", "get_event", "list_events"]


@dataclass(frozen=True, slots=True)
class EventDetail:
    event: WebhookEvent
    attempts: Sequence[WebhookAttempt]


def list_events(
    session: Session, *, status: str | None = None, event_type: str | None = None,
    object_id: str | None = None, before_id: int | None = None, limit: int = 50,
) -> Sequence[WebhookEvent]:
    """Newest first, filtered by status, type and/or the Stripe object they are about; `before_id` pages."""
    return repository.search(session, status=status, event_type=event_type, object_id=object_id,
                             before_id=before_id, limit=min(max(limit, 1), 1001))


def get_event(session: Session, *, event_ref: str) -> EventDetail:
    """One event by local id or Stripe id (evt_...), with its attempts."""
    event = repository.get(session, event_ref=event_ref)
    if event is None:
        raise NotFound(f"no stored Stripe event {event_ref}")
    return EventDetail(event, repository.attempts_of(session, event_id=event.id))


def dead_event_ids(session: Session) -> list[int]:
    return repository.ids_with_status(session, status="dead")


def counts(session: Session) -> dict[str, int]:
    return repository.count_by_status(session)


def backlog(session: Session) -> leases.Backlog:
    """Events received and not applied yet (new, being applied, waiting to retry), and the oldest's age."""
    return repository.backlog(session)
