"""HTTP routes of subscriptions: cancel at period end, resume, change plan, billing portal."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from coinslot.api_contract import errors
from coinslot.deps import ContainerDep, require_scope
from coinslot.subscriptions import addon_flows, flows
from coinslot.subscriptions.schemas import (
    AddAddon,
    AddonPreview,
    ChangePlan,
    ChangePreviewOut,
    ChangeSeats,
    ItemsPreviewOut,
    OpenPortal,
    PortalOut,
    PreviewLineOut,
    SeatsPreview,
    SubscriptionOut,
)
from coinslot.urls import check_redirect_url

router = APIRouter(
    prefix="/v1/customers/{host_user_id}", tags=["subscriptions"],
    dependencies=[Depends(require_scope("billing"))],
)


def _out(view: flows.SubscriptionView) -> SubscriptionOut:
    return SubscriptionOut(
        stripe_subscription_id=view.stripe_subscription_id,
        status=view.status,
        plan_key=view.plan_key,
        interval=view.interval,
        cancel_at_period_end=view.cancel_at_period_end,
        current_period_end=view.current_period_end,
        pending_plan_key=view.pending_plan_key,
        seats=view.seats,
        addons=list(view.addons),
    )


@router.post("/subscription/cancel", response_model=SubscriptionOut, operation_id="cancelSubscription",
             summary="Cancel at the period end", responses=errors(404, 502))
def cancel(host_user_id: str, container: ContainerDep) -> SubscriptionOut:
    """Cancel at the end of the paid period (the plan stays until then)."""
    return _out(flows.cancel_at_period_end(container, host_user_id=host_user_id))


@router.post("/subscription/resume", response_model=SubscriptionOut, operation_id="resumeSubscription",
             summary="Take back a cancellation", responses=errors(404, 502))
def resume(host_user_id: str, container: ContainerDep) -> SubscriptionOut:
    """Undo a cancellation at period end."""
    return _out(flows.resume(container, host_user_id=host_user_id))


@router.post("/subscription/change", response_model=SubscriptionOut, operation_id="changePlan",
             summary="Switch plans", responses=errors(402, 404, 409, 502))
def change(host_user_id: str, body: ChangePlan, container: ContainerDep) -> SubscriptionOut:
    """Switch plan: upgrades now with proration, downgrades at the period end (unless `timing` says)."""
    view = flows.change_plan(
        container, host_user_id=host_user_id, plan_key=body.plan, interval=body.interval, timing=body.timing,
        proration_date_s=flows.checked_proration_date(container, body.proration_date),
    )
    return _out(view)


@router.post("/subscription/change/preview", response_model=ChangePreviewOut,
             operation_id="previewPlanChange", summary="What a plan switch would charge now",
             responses=errors(404, 409, 502))
def preview_change(host_user_id: str, body: ChangePlan, container: ContainerDep) -> ChangePreviewOut:
    """Stripe's proration preview of a switch, and when it would apply; nothing changes. Pass its
    `proration_date` to `changePlan` to charge exactly what it showed."""
    preview = flows.preview_change(container, host_user_id=host_user_id, plan_key=body.plan,
                                   interval=body.interval)
    return ChangePreviewOut(
        plan=preview.plan_key, interval=preview.interval, timing=preview.timing,
        effective_at=preview.effective_at, currency=preview.currency,
        amount_due_minor=preview.amount_due_minor,
        lines=[PreviewLineOut(description=text, amount_minor=amount) for text, amount in preview.lines],
        proration_date=preview.proration_date_s, note=preview.note,
    )


@router.post("/portal", response_model=PortalOut, operation_id="createPortalSession",
             summary="A Stripe billing portal link", responses=errors(404, 409, 502))
def portal(host_user_id: str, body: OpenPortal, container: ContainerDep) -> PortalOut:
    """A Stripe billing portal link, optionally opened on a plan switch or a cancellation."""
    allowed = [*container.settings.redirect_origins, container.settings.public_url]
    check_redirect_url(body.return_url, allowed_origins=allowed, field="return_url")
    created = flows.open_portal(
        container,
        host_user_id=host_user_id,
        return_url=body.return_url,
        flow=body.flow,
        plan_key=body.plan,
        interval=body.interval,
    )
    return PortalOut(url=created.url)


def _preview_out(preview: addon_flows.ItemsPreview) -> ItemsPreviewOut:
    return ItemsPreviewOut(
        currency=preview.currency, amount_due_minor=preview.amount_due_minor, total_minor=preview.total_minor,
        lines=[PreviewLineOut(description=text, amount_minor=amount) for text, amount in preview.lines],
        proration_date=preview.proration_date,
    )


@router.post("/subscription/seats/preview", response_model=ItemsPreviewOut, operation_id="previewSeats",
             summary="What a change of seats would charge now", responses=errors(404, 409, 502))
def preview_seats(host_user_id: str, body: SeatsPreview, container: ContainerDep) -> ItemsPreviewOut:
    """Stripe's proration preview of a per-seat plan's new seat count; nothing changes. Pass its
    `proration_date` to `changeSeats` to be charged exactly what it showed."""
    return _preview_out(addon_flows.preview_seats(container, host_user_id=host_user_id, seats=body.seats))


@router.post("/subscription/seats", response_model=SubscriptionOut, operation_id="changeSeats",
             summary="Change the seats of a per-seat plan", responses=errors(402, 404, 409, 502))
def change_seats(host_user_id: str, body: ChangeSeats, container: ContainerDep) -> SubscriptionOut:
    """Set the seats now, prorated and invoiced at once: added seats are charged (and their credits granted)
    now; removed seats are credited for their unused time to the customer's Stripe balance."""
    view = addon_flows.change_seats(
        container, host_user_id=host_user_id, seats=body.seats,
        proration_date=flows.checked_proration_date(container, body.proration_date),
    )
    return _out(view)


@router.post("/subscription/addons/preview", response_model=ItemsPreviewOut, operation_id="previewAddon",
             summary="What adding or removing an add-on would charge now", responses=errors(404, 409, 502))
def preview_addon(host_user_id: str, body: AddonPreview, container: ContainerDep) -> ItemsPreviewOut:
    """Stripe's proration preview of adding (or removing) an add-on; nothing changes."""
    return _preview_out(addon_flows.preview_addon(container, host_user_id=host_user_id, addon_key=body.addon,
                                                  add=body.action == "add"))


@router.post("/subscription/addons", response_model=SubscriptionOut, operation_id="addAddon",
             summary="Add an add-on to the subscription", responses=errors(402, 404, 409, 502))
def add_addon(host_user_id: str, body: AddAddon, container: ContainerDep) -> SubscriptionOut:
    """Add an add-on now: prorated for the rest of the period and invoiced at once, its credits granted and
    its features unlocked at once; it renews with the plan."""
    view = addon_flows.add_addon(
        container, host_user_id=host_user_id, addon_key=body.addon,
        proration_date=flows.checked_proration_date(container, body.proration_date),
    )
    return _out(view)


@router.delete("/subscription/addons/{addon}", response_model=SubscriptionOut, operation_id="removeAddon",
               summary="Remove an add-on from the subscription", responses=errors(404, 409, 502))
def remove_addon(host_user_id: str, addon: str, container: ContainerDep) -> SubscriptionOut:
    """Remove an add-on now: its unused time is credited to the customer's Stripe balance, its features
    lock and the period's credits are capped to the allowance without it."""
    return _out(addon_flows.remove_addon(container, host_user_id=host_user_id, addon_key=addon))
