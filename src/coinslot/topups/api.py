"""HTTP routes of auto top-up: read it, turn it on (consent, then a saved card), turn it off."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from coinslot.api_contract import errors
from coinslot.deps import ContainerDep, require_scope
from coinslot.topups import flows, service
from coinslot.topups.schemas import AutoTopupOut, SetupStarted, TurnOn

router = APIRouter(prefix="/v1/customers/{host_user_id}/auto_topup", tags=["auto top-up"])


def _out(view: service.AutoTopupView) -> AutoTopupOut:
    offer, terms = view.offer, view.terms
    return AutoTopupOut(
        offered=view.offered, enabled=view.enabled, pack=offer.pack_key if offer else None,
        credits=offer.credits if offer else None, amount_minor=offer.amount_minor if offer else None,
        currency=offer.currency if offer else None,
        threshold_credits=terms.threshold_credits if terms else None,
        monthly_cap_count=terms.monthly_cap_count if terms else None,
        monthly_cap_amount_minor=terms.monthly_cap_amount_minor if terms else None,
        month_count=view.month_count, month_amount_minor=view.month_amount_minor,
        consent_text=view.consent_text, consented_at=view.consented_at, setup_pending=view.setup_pending,
        notice_code=view.notice_code, notice=view.notice,
    )


@router.get("", response_model=AutoTopupOut, operation_id="getAutoTopup", summary="A customer's auto top-up",
            responses=errors(), dependencies=[Depends(require_scope("read"))])
def get_auto_topup(host_user_id: str, container: ContainerDep) -> AutoTopupOut:
    """Whether auto top-up is on, its terms and consent text, this month's top-ups, and a failure's notice."""
    return _out(flows.view_of(container, host_user_id=host_user_id))


@router.post("", response_model=SetupStarted, status_code=201, operation_id="turnOnAutoTopup",
             summary="Turn auto top-up on", responses=errors(404, 409, 502),
             dependencies=[Depends(require_scope("billing"))])
def turn_on(host_user_id: str, body: TurnOn, container: ContainerDep) -> SetupStarted:
    """Store the customer's consent and open a setup-mode Checkout to save their card; auto top-up is on
    once the card is saved (Stripe's `checkout.session.completed`)."""
    started = flows.start_setup(container, host_user_id=host_user_id, pack_key=body.pack,
                                consent=body.consent, success_url=body.success_url,
                                cancel_url=body.cancel_url)
    return SetupStarted(url=started.url, session_id=started.session_id, consent_text=started.consent_text)


@router.delete("", response_model=AutoTopupOut, operation_id="turnOffAutoTopup",
               summary="Turn auto top-up off", responses=errors(),
               dependencies=[Depends(require_scope("billing"))])
def turn_off(host_user_id: str, container: ContainerDep) -> AutoTopupOut:
    """Turn auto top-up off (a top-up already triggered is still charged). Off already: no change."""
    flows.turn_off(container, host_user_id=host_user_id)
    return _out(flows.view_of(container, host_user_id=host_user_id))
