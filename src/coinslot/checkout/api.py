"""HTTP routes: checkout sessions and orders (the customer summary is in `overview/api.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from coinslot.api_contract import errors
from coinslot.checkout import core, flows, service
from coinslot.checkout.schemas import (
    CheckoutStarted,
    CreateOrder,
    FulfilAnswer,
    OrderCheckout,
    OrderOut,
    OrderStatusChange,
    StartCheckout,
    order_out,
)
from coinslot.customers import service as customers_service
from coinslot.deps import ContainerDep, require_scope
from coinslot.stripe_ids import checked_stripe_id

router = APIRouter(prefix="/v1", tags=["checkout"])
_BILLING = [Depends(require_scope("billing"))]
_READ = [Depends(require_scope("read"))]


def _started(started: flows.StartedCheckout) -> JSONResponse:
    body = CheckoutStarted(
        checkout_id=started.checkout_id,
        session_id=started.session_id,
        url=started.url,
        mode=started.mode,
        order_id=started.order_id,
        amount_total_minor=started.amount_total_minor,
        currency=started.currency,
    )
    return JSONResponse(body.model_dump(), status_code=201)


@router.post("/checkout/sessions", response_model=CheckoutStarted, status_code=201, dependencies=_BILLING,
             operation_id="startCheckout", summary="Start a hosted Checkout", responses=errors(404, 409, 413))
def start_checkout(body: StartCheckout, container: ContainerDep) -> JSONResponse:
    """Start a hosted Checkout; redirect the user's browser to `url`."""
    item = core.ItemRequest(
        plan=body.plan,
        interval=body.interval,
        product=body.product,
        pack=body.pack,
        lookup_key=body.lookup_key,
        quantity=body.quantity,
        mode=body.mode,
    )
    started = flows.start_checkout(
        container,
        host_user_id=body.host_user_id,
        item=item,
        email=body.email,
        name=body.name,
        payload=body.payload,
        success_url=body.success_url,
        cancel_url=body.cancel_url,
    )
    return _started(started)


# A POST: it applies the purchase (a side effect), so no prefetch or crawler may trigger it.
@router.post("/checkout/sessions/{session_id}/fulfil", response_model=FulfilAnswer,
             dependencies=_BILLING, operation_id="fulfilCheckout",
             summary="Apply a Checkout the user came back from", responses=errors(404, 409, 502))
def fulfil_checkout(
    session_id: str, container: ContainerDep, host_user_id: str | None = Query(default=None)
) -> FulfilAnswer:
    """Call when the user lands on the success URL: applies the purchase now if Stripe says it is paid."""
    checked_stripe_id(session_id, "cs", field="session_id")
    checkout, result = flows.fulfil_return(container, session_id=session_id, host_user_id=host_user_id)
    return FulfilAnswer(
        session_id=checkout.id,
        status=checkout.status,
        payment_status=checkout.payment_status,
        mode=checkout.mode,
        applied=result.applied,
        reason=result.reason,
        order_id=result.order_id or checkout.metadata.get(service.METADATA_ORDER),
        credits=result.credits,
    )


@router.post("/orders", response_model=OrderOut, status_code=201, dependencies=_BILLING,
             operation_id="createOrder", summary="Save a DRAFT order before payment",
             responses=errors(404, 413))
def create_order(body: CreateOrder, container: ContainerDep) -> JSONResponse:
    """Save a DRAFT order with the user's form; then start its checkout with POST /v1/orders/{id}/checkout."""
    order = flows.create_order(
        container,
        host_user_id=body.host_user_id,
        product=body.product,
        payload=body.payload,
        email=body.email,
    )
    return JSONResponse(order_out(order, body.host_user_id).model_dump(mode="json"), status_code=201)


@router.get("/orders", response_model=list[OrderOut], dependencies=_READ, operation_id="listOrders",
            summary="List orders", responses=errors())
def list_orders(
    container: ContainerDep,
    host_user_id: str | None = None,
    status: str | None = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> list[OrderOut]:
    """Orders, newest first; filter by user and status (e.g. the drafts a user can resume)."""
    with container.db.unit_of_work(read_only=True) as session:
        orders = service.list_orders(session, host_user_id=host_user_id, status=status, limit=limit)
        owners = {order.customer_id: _host_user_of(session, order.customer_id) for order in orders}
        return [order_out(order, owners[order.customer_id]) for order in orders]


@router.get("/orders/{order_id}", response_model=OrderOut, dependencies=_READ, operation_id="getOrder",
            summary="One order", responses=errors(404))
def get_order(order_id: str, container: ContainerDep, host_user_id: str | None = None) -> OrderOut:
    with container.db.unit_of_work(read_only=True) as session:
        order = service.get_order(session, order_id=order_id, host_user_id=host_user_id)
        return order_out(order, _host_user_of(session, order.customer_id))


@router.post("/orders/{order_id}/checkout", response_model=CheckoutStarted, status_code=201,
             dependencies=_BILLING, operation_id="startOrderCheckout",
             summary="Start (or resume) the Checkout of a DRAFT order", responses=errors(404, 409))
def checkout_order(order_id: str, body: OrderCheckout, container: ContainerDep) -> JSONResponse:
    """Checkout for a DRAFT order: the first one, or a resume after an abandoned or expired one."""
    started = flows.start_order_checkout(
        container,
        order_id=order_id,
        success_url=body.success_url,
        cancel_url=body.cancel_url,
        host_user_id=body.host_user_id,
    )
    return _started(started)


@router.post("/orders/{order_id}/status", response_model=OrderOut, dependencies=_BILLING,
             operation_id="setOrderStatus", summary="Move an order to fulfilled or canceled",
             responses=errors(404, 409))
def set_order_status(order_id: str, body: OrderStatusChange, container: ContainerDep) -> OrderOut:
    """Move a PAID order to fulfilled, or a DRAFT/PAID order to canceled."""
    with container.db.unit_of_work() as session:
        order = service.set_order_status(
            session,
            order_id=order_id,
            status=body.status,
            host_user_id=body.host_user_id,
            now=container.clock.now(),
        )
        return order_out(order, _host_user_of(session, order.customer_id))


def _host_user_of(session: Session, customer_id: int) -> str:
    customer = customers_service.get_by_id(session, customer_id=customer_id)
    return customer.host_user_id if customer else ""
