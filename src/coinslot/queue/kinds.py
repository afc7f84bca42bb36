"""The queues coinslot keeps: their table, their statuses, how their rows are named and ordered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import InstrumentedAttribute

from coinslot.models import AutoTopup, OutboxMessage, OverageReport, WebhookEvent
from coinslot.models.lease import Leased

__all__ = ["AUTO_TOPUPS", "HOST_WEBHOOKS", "OVERAGE_REPORTS", "STRIPE_EVENTS", "QueueKind"]

RowT = TypeVar("RowT", bound=Leased)


@dataclass(frozen=True)
class QueueKind(Generic[RowT]):
    """One queue: a table of `Leased` rows and the names of its states."""

    name: str  # for logs and metrics: the table's name
    model: type[RowT]
    new: str  # stored, never tried
    leased: str  # claimed by a worker
    done: str  # its work done (the processed mark)
    public_id: InstrumentedAttribute[str]  # the id people quote (evt_..., msg_...)
    type_column: InstrumentedAttribute[str]  # what kind of work a row is (event type)
    created: InstrumentedAttribute[dt.datetime]  # when the row was made
    order: tuple[InstrumentedAttribute[Any], ...]  # claim order: oldest first

    @property
    def ready(self) -> tuple[str, str]:
        """States a due row is claimed from."""
        return (self.new, "failed")

    @property
    def unfinished(self) -> tuple[str, str, str]:
        return (self.new, self.leased, "failed")


# Stripe's events, as received: claimed oldest Stripe event first (then by arrival).
STRIPE_EVENTS: QueueKind[WebhookEvent] = QueueKind(
    name="webhook_events", model=WebhookEvent, new="received", leased="processing", done="processed",
    public_id=WebhookEvent.stripe_event_id, type_column=WebhookEvent.type, created=WebhookEvent.received_at,
    order=(WebhookEvent.stripe_created, WebhookEvent.id),
)

# coinslot's signed webhooks to the host app.
HOST_WEBHOOKS: QueueKind[OutboxMessage] = QueueKind(
    name="outbox", model=OutboxMessage, new="pending", leased="sending", done="delivered",
    public_id=OutboxMessage.webhook_id, type_column=OutboxMessage.event_type,
    created=OutboxMessage.created_at,
    order=(OutboxMessage.id,),
)

# Auto top-ups to charge off-session (`coinslot.topups`): claimed oldest first. Their end states are the
# topups domain's own (succeeded, declined), written when Stripe answers.
AUTO_TOPUPS: QueueKind[AutoTopup] = QueueKind(
    name="auto_topups", model=AutoTopup, new="pending", leased="charging", done="succeeded",
    public_id=AutoTopup.trigger_entry_id, type_column=AutoTopup.pack_key, created=AutoTopup.created_at,
    order=(AutoTopup.id,),
)

# Overage on its way to Stripe's meter: one row per overage ledger entry, oldest first.
OVERAGE_REPORTS: QueueKind[OverageReport] = QueueKind(
    name="overage_reports", model=OverageReport, new="pending", leased="sending", done="reported",
    public_id=OverageReport.identifier, type_column=OverageReport.status, created=OverageReport.created_at,
    order=(OverageReport.id,),
)
