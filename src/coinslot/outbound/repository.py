"""Every SQL query of the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot import leases
from coinslot.models import OutboxMessage

__all__ = ["backlog", "claim_due", "count_by_status", "get", "held_lease", "ids_with_status", "search"]

SENDING = "sending"
UNFINISHED = ("pending", SENDING, "failed")


def claim_due(
    session: Session, *, now: dt.datetime, sender: str, lease_until: dt.datetime, limit: int
) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to `sender`, oldest first: pending or failed ones whose time
    has come, and those whose lease ran out (a sender died mid-delivery)."""
    return leases.claim_due(
        session,
        OutboxMessage,
        ready=("pending", "failed"),
        leased=SENDING,
        now=now,
        worker=sender,
        lease_until=lease_until,
        limit=limit,
        order_by=(OutboxMessage.id,),
    )


def held_lease(session: Session, *, message_id: int, sender: str) -> OutboxMessage | None:
    """The message, locked, if `sender` still holds its lease; None when it was lost to another."""
    return leases.held_lease(session, OutboxMessage, row_id=message_id, worker=sender, leased=SENDING)


def get(session: Session, *, message_ref: str | int, for_update: bool = False) -> OutboxMessage | None:
    """By local id (number) or webhook id (msg_...)."""
    query = select(OutboxMessage)
    if isinstance(message_ref, int) or message_ref.isdigit():
        query = query.where(OutboxMessage.id == int(message_ref))
    else:
        query = query.where(OutboxMessage.webhook_id == message_ref)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def search(
    session: Session, *, status: str | None = None, event_type: str | None = None, limit: int = 50
) -> Sequence[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    if event_type:
        query = query.where(OutboxMessage.event_type == event_type)
    return session.scalars(query).all()


def count_by_status(session: Session) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {str(status): int(count) for status, count in session.execute(query)}


def ids_with_status(session: Session, *, status: str) -> list[int]:
    query = select(OutboxMessage.id).where(OutboxMessage.status == status).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def backlog(session: Session) -> leases.Backlog:
    """Messages not delivered yet, and when the oldest of them was written."""
    return leases.backlog(session, OutboxMessage, unfinished=UNFINISHED, created=OutboxMessage.created_at)
