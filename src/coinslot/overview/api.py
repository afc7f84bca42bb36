"""HTTP routes that read a customer's whole state (API key): the summary and the credits balance.

Both come from `overview.service.customer_state`, as the billing page does, so the API, the pages and
`POST /v1/check` show one balance for the same user at the same moment.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from coinslot.deps import ContainerDep, require_api_key
from coinslot.overview.schemas import BalanceOut, CustomerSummary, balance_out, summary_out
from coinslot.overview.service import read_customer_state

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])


@router.get("/customers/{host_user_id}", response_model=CustomerSummary, tags=["customers"])
def customer_summary(host_user_id: str, container: ContainerDep) -> CustomerSummary:
    """Plan, subscription status and dates, and credits of a host user."""
    return summary_out(read_customer_state(container, host_user_id=host_user_id))


@router.get("/credits/{host_user_id}", response_model=BalanceOut, tags=["ledger"])
def get_balance(host_user_id: str, container: ContainerDep) -> BalanceOut:
    """The user's credits now: available (the month a free or yearly plan grants at first use included,
    as the check counts it), held by pending holds, owed after a refund, the period's grant."""
    return balance_out(read_customer_state(container, host_user_id=host_user_id))
