"""HTTP routes of the credits ledger (API key): usage history, raw spends, operator adjustments.

The balance (`GET /v1/credits/{user}`) is read with the customer's whole state in `overview/api.py`.

Feature-level use (check, consume, holds) lives in `entitlements/api.py`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from coinslot.deps import ContainerDep, require_api_key
from coinslot.ledger import service
from coinslot.ledger.schemas import AdjustBody, EntryOut, SpendBody, UsageOut
from coinslot.ledger.service import EntryResult

router = APIRouter(prefix="/v1/credits", tags=["ledger"], dependencies=[Depends(require_api_key)])


def entry_out(result: EntryResult) -> EntryOut:
    return EntryOut(
        entry_id=result.entry_id, kind=result.kind, credits=result.credits,
        available_delta=result.available_delta, balance_after=result.balance_after, hold_id=result.hold_id,
        feature=result.feature, created_at=result.created_at, replayed=result.replayed,
    )


def _customer_id(session: Session, host_user_id: str) -> int:
    return service.customer_id_for(session, host_user_id=host_user_id)


@router.get("/{host_user_id}/history", response_model=list[UsageOut])
def get_history(
    host_user_id: str, container: ContainerDep, months: int = Query(6, ge=1, le=120)
) -> list[UsageOut]:
    """Usage per month and feature, newest month first."""
    with container.db.unit_of_work(read_only=True) as session:
        rows = service.history(session, customer_id=_customer_id(session, host_user_id), months=months,
                               now=container.clock.now())
    return [UsageOut(month=r.month, feature=r.feature, uses=r.uses, credits=r.credits) for r in rows]


@router.post("/{host_user_id}/spend", response_model=EntryOut)
def spend(host_user_id: str, body: SpendBody, container: ContainerDep) -> EntryOut:
    """Spend credits directly (no plan check; see POST /v1/consume). 402 when short, nothing spent."""
    with container.db.unit_of_work() as session:
        customer_id = _customer_id(session, host_user_id)
        result = service.spend(
            session, customer_id=customer_id,
            entry_id=service.caller_entry_id(customer_id=customer_id, idempotency_key=body.idempotency_key),
            credits=body.credits, feature=body.feature, now=container.clock.now(),
            low_balance_pct=container.settings.low_balance_pct,
        )
    return entry_out(result)


@router.post("/{host_user_id}/adjustments", response_model=EntryOut)
def adjust(host_user_id: str, body: AdjustBody, container: ContainerDep) -> EntryOut:
    """An operator's correction, with a required reason; it never takes the balance below zero."""
    with container.db.unit_of_work() as session:
        customer_id = _customer_id(session, host_user_id)
        result = service.adjust(
            session, customer_id=customer_id,
            entry_id=service.caller_entry_id(customer_id=customer_id, idempotency_key=body.idempotency_key),
            credits=body.credits, reason=body.reason, now=container.clock.now(),
        )
    return entry_out(result)
