"""HTTP routes that read a customer's state (API key): the summary, the whole state, the balance.

All three come from `overview.service.customer_state`, as the billing page does, so the API, the pages
and `POST /v1/check` show one balance for the same user at the same moment. A user coinslot has not seen
yet is answered as the user they would start as (`known: false`, the default plan), never a 404: a host
may ask before the user's first use.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from coinslot.api_contract import errors
from coinslot.deps import ContainerDep, require_scope
from coinslot.ledger.schemas import UsageOut
from coinslot.overview.schemas import (
    BalanceOut,
    CustomerStateOut,
    CustomerSummary,
    balance_out,
    state_out,
    summary_out,
)
from coinslot.overview.service import read_customer_state, read_usage_history

router = APIRouter(prefix="/v1", dependencies=[Depends(require_scope("read"))])


@router.get("/customers/{host_user_id}", response_model=CustomerSummary, tags=["customers"],
            operation_id="getCustomer", summary="A user's plan, subscription and credits", responses=errors())
def customer_summary(host_user_id: str, container: ContainerDep) -> CustomerSummary:
    """Plan, subscription status and dates, and credits of a host user."""
    return summary_out(read_customer_state(container, host_user_id=host_user_id))


@router.get("/customers/{host_user_id}/state", response_model=CustomerStateOut, tags=["customers"],
            operation_id="getCustomerState", summary="Everything a page needs about a user",
            responses=errors())
def customer_state(host_user_id: str, container: ContainerDep) -> CustomerStateOut:
    """Plan, status, access, period, the balance with its parts and this period's use, each feature's
    allowance and use, pending holds and open orders: the one call a host page needs."""
    return state_out(read_customer_state(container, host_user_id=host_user_id))


@router.get("/credits/{host_user_id}/history", response_model=list[UsageOut], tags=["credits"],
            operation_id="getUsageHistory", summary="Usage per month and feature", responses=errors())
def get_history(
    host_user_id: str, container: ContainerDep,
    months: Annotated[int, Query(ge=1, le=120, description="how many months back, this one included")] = 6,
) -> list[UsageOut]:
    """Usage per month and feature, newest month first (months of the user's time: their Stripe test
    clock's, in test mode). A user coinslot has not seen yet has none."""
    return [UsageOut(month=row.month, feature=row.feature, uses=row.uses, credits=row.credits)
            for row in read_usage_history(container, host_user_id=host_user_id, months=months)]


@router.get("/credits/{host_user_id}", response_model=BalanceOut, tags=["credits"], operation_id="getCredits",
            summary="A user's credits now", responses=errors())
def get_balance(host_user_id: str, container: ContainerDep) -> BalanceOut:
    """The user's credits now: available (the month a free or yearly plan grants at first use included,
    as the check counts it), held by pending holds, owed after a refund, the period's grant."""
    return balance_out(read_customer_state(container, host_user_id=host_user_id))
