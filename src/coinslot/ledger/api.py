"""HTTP routes of the credits ledger (API key): the entries and operators' adjustments.

The balance (`GET /v1/credits/{host_user_id}`) and the usage history, read at the customer's time, are in
`overview/api.py`;
every use (check, consume, holds, and the raw spend `POST /v1/credits/{host_user_id}/spend`, which may
top up automatically) lives in `entitlements/api.py`. A user coinslot has not seen yet
has an empty ledger (as a new user would), never a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from coinslot.api_contract import errors
from coinslot.deps import ContainerDep, require_scope
from coinslot.ledger import service
from coinslot.ledger.schemas import AdjustBody, EntryOut, LedgerLineOut, LedgerPage
from coinslot.ledger.service import EntryResult
from coinslot.limits import BIGINT_MAX

router = APIRouter(prefix="/v1", tags=["credits"])
_READ = [Depends(require_scope("read"))]

Position = Annotated[int | None, Query(ge=0, le=BIGINT_MAX, description="an entry's `position`")]


def entry_out(result: EntryResult) -> EntryOut:
    return EntryOut(
        entry_id=result.entry_id, kind=result.kind, credits=result.credits,
        available_delta=result.available_delta, balance_after=result.balance_after, hold_id=result.hold_id,
        feature=result.feature, created_at=result.created_at, replayed=result.replayed,
    )


def _customer_id(session: Session, host_user_id: str) -> int:
    return service.customer_id_for(session, host_user_id=host_user_id)


@router.get("/customers/{host_user_id}/ledger", response_model=LedgerPage, dependencies=_READ,
            operation_id="listLedgerEntries",
            summary="A customer's ledger entries, a page at a time", responses=errors())
def list_entries(
    host_user_id: str, container: ContainerDep, after: Position = None, before: Position = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="entries per page")] = 50,
) -> LedgerPage:
    """Newest first (pass the last `position` seen as `before` for the next page); with `after`, the
    entries written after that position, oldest first (to follow a ledger as it grows)."""
    with container.db.unit_of_work(read_only=True) as session:
        customer_id = service.find_customer_id(session, host_user_id=host_user_id)
        lines = [] if customer_id is None else service.entries(
            session, customer_id=customer_id, after=after, before=before, limit=limit + 1)
    return LedgerPage(data=[LedgerLineOut(**line.as_dict()) for line in lines[:limit]],
                      has_more=len(lines) > limit)


@router.post("/credits/{host_user_id}/adjustments", response_model=EntryOut,
             dependencies=[Depends(require_scope("admin"))], operation_id="adjustCredits",
             summary="An operator's correction of a balance", responses=errors(402, 404, 409))
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
