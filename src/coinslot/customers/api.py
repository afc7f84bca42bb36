"""HTTP routes of customers: make sure a host user has a customer (and a Stripe customer).

The customer's state (GET /v1/customers/{host_user_id} and .../state) reads subscriptions and credits,
which sit above this domain, so it lives in `overview/api.py`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from coinslot.api_contract import errors
from coinslot.customers import flows, service
from coinslot.customers.schemas import CustomerOut, EnsureCustomer
from coinslot.deps import ContainerDep, require_scope
from coinslot.models import Customer

router = APIRouter(prefix="/v1/customers", tags=["customers"],
                   dependencies=[Depends(require_scope("billing"))])


def _out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        host_user_id=customer.host_user_id,
        email=customer.email,
        name=customer.name,
        stripe_customer_id=customer.stripe_customer_id,
    )


@router.post("", response_model=CustomerOut, operation_id="ensureCustomer",
             summary="Get or create a user's customer", responses=errors(409, 502))
def ensure_customer(body: EnsureCustomer, container: ContainerDep) -> CustomerOut:
    """Get or create the customer of a host user; with `stripe` (default) its Stripe customer too."""
    if body.stripe:
        return _out(
            flows.ensure_stripe_customer(
                container, host_user_id=body.host_user_id, email=body.email, name=body.name
            )
        )
    with container.db.unit_of_work() as session:
        customer = service.ensure_customer(
            session,
            host_user_id=body.host_user_id,
            email=body.email,
            name=body.name,
            now=container.clock.now(),
        )
        return _out(customer)
