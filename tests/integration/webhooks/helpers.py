"""Small steps the webhook tests share: store a signed event, process, read back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.models import Alert, LedgerEntry, OutboxMessage, Subscription, WebhookEvent
from coinslot.stripe_gateway.events import parse_verified_event
from coinslot.webhooks.inbox import store_event
from coinslot.webhooks.worker import process_due
from tests.support.webhooks import SnapshotReader, event_body


def store(
    container: Container,
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
) -> str:
    body = event_body(event_type, obj, event_id=event_id, created=created)
    event = parse_verified_event(body)
    with container.db.unit_of_work() as session:
        store_event(session, event=event, payload=body, now=container.clock.now())
    return event.id


def process(
    container: Container,
    reader: SnapshotReader,
    catalog: Catalog,
    *,
    limit: int = 100,
    worker: str | None = None,
) -> int:
    return process_due(container, limit=limit, reader=reader, load_catalog=lambda: catalog, worker=worker)


def event_row(container: Container, stripe_event_id: str) -> WebhookEvent:
    with container.db.unit_of_work(read_only=True) as session:
        return session.scalars(
            select(WebhookEvent).where(WebhookEvent.stripe_event_id == stripe_event_id)
        ).one()


def grants(container: Container, invoice_id: str) -> int:
    with container.db.unit_of_work(read_only=True) as session:
        query = (
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.entry_id == f"invoice:{invoice_id}")
        )
        return int(session.scalar(query) or 0)


def credits_granted(container: Container, customer_id: int) -> int:
    with container.db.unit_of_work(read_only=True) as session:
        query = select(func.coalesce(func.sum(LedgerEntry.available_delta), 0)).where(
            LedgerEntry.customer_id == customer_id
        )
        return int(session.scalar(query) or 0)


def mirrored(container: Container, sub_id: str) -> Subscription | None:
    with container.db.unit_of_work(read_only=True) as session:
        query = select(Subscription).where(Subscription.stripe_subscription_id == sub_id)
        return session.scalars(query).one_or_none()


def alerts(container: Container) -> list[Alert]:
    with container.db.unit_of_work(read_only=True) as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def outbox(container: Container, event_type: str | None = None) -> list[OutboxMessage]:
    with container.db.unit_of_work(read_only=True) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if event_type:
            query = query.where(OutboxMessage.event_type == event_type)
        return list(session.scalars(query))


def later(container: Container, seconds: float) -> None:
    container.clock.advance(dt.timedelta(seconds=seconds))  # type: ignore[attr-defined]
