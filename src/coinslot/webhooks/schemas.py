"""Response bodies of the Stripe-event routes: where each event coinslot received stands."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from coinslot.models import WebhookAttempt, WebhookEvent

__all__ = ["AttemptOut", "EventDetailOut", "EventOut", "EventPage", "attempt_out", "event_out"]

STATUSES = ("received (stored, not tried yet), processing, processed (its effects committed), ignored "
            "(a type coinslot does not act on), failed (retried at next_attempt_at), dead (out of attempts)")


class EventOut(BaseModel):
    """A Stripe event as coinslot received it, and where its processing stands."""

    position: int = Field(description="orders the events; pass it as `before` to page")
    id: str = Field(description="Stripe's event id (evt_...)")
    type: str = Field(description="e.g. invoice.paid")
    object_id: str | None = Field(description="the Stripe object it is about (in_..., sub_..., cs_...)")
    status: str = Field(description=STATUSES)
    attempts: int = Field(description="processing attempts so far")
    livemode: bool = Field(description="true for live-mode events")
    received_at: dt.datetime = Field(description="when coinslot stored it")
    processed_at: dt.datetime | None = Field(description="when its effects were committed")
    next_attempt_at: dt.datetime | None = Field(description="when a failed event is tried again")
    last_error: str | None = Field(description="the last attempt's error, if it failed")


class AttemptOut(BaseModel):
    """One try at processing an event."""

    number: int = Field(description="1 for the first try")
    worker: str = Field(description="which worker tried")
    started_at: dt.datetime = Field(description="when it started")
    finished_at: dt.datetime = Field(description="when it ended")
    outcome: str = Field(description="processed, ignored, failed or dead")
    error: str | None = Field(description="what went wrong, if it did")


class EventDetailOut(EventOut):
    """An event with every processing attempt."""

    attempt_history: list[AttemptOut] = Field(description="oldest first")


class EventPage(BaseModel):
    """A page of events, newest first."""

    data: list[EventOut] = Field(description="the events")
    has_more: bool = Field(description="whether older events follow")


def event_out(event: WebhookEvent) -> EventOut:
    return EventOut(
        position=event.id, id=event.stripe_event_id, type=event.type, object_id=event.object_id,
        status=event.status, attempts=event.attempts, livemode=event.livemode, received_at=event.received_at,
        processed_at=event.processed_at, next_attempt_at=event.next_attempt_at, last_error=event.last_error,
    )


def attempt_out(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut(number=attempt.number, worker=attempt.worker, started_at=attempt.started_at,
                      finished_at=attempt.finished_at, outcome=attempt.outcome, error=attempt.error)
