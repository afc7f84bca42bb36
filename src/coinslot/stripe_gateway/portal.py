"""Stripe billing portal sessions: the hosted page where customers manage their subscription."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import stripe

from coinslot.stripe_gateway.errors import translate_stripe_errors

__all__ = ["PortalFlow", "PortalSessionData", "StripePortal"]

PortalFlow = Literal["subscription_update", "subscription_update_confirm", "subscription_cancel"]


@dataclass(frozen=True, slots=True)
class PortalSessionData:
    id: str
    url: str
    return_url: str | None


class StripePortal:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def create_session(
        self,
        *,
        customer_id: str,
        return_url: str,
        flow: PortalFlow | None = None,
        subscription_id: str | None = None,
        subscription_item_id: str | None = None,
        price_id: str | None = None,
    ) -> PortalSessionData:
        """A portal session, optionally opening straight on a flow (switch plan, confirm a switch, cancel).

        Portal sessions are short-lived and creating one changes nothing, so no
        idempotency key is needed: a retry just makes another link.
        """
        params: dict[str, Any] = {"customer": customer_id, "return_url": return_url}
        if flow is not None:
            params["flow_data"] = _flow_data(
                flow, subscription_id, subscription_item_id, price_id, return_url
            )
        with translate_stripe_errors(f"open the billing portal for {customer_id}"):
            created = self._client.v1.billing_portal.sessions.create(params=params)  # type: ignore[arg-type]
        return PortalSessionData(id=created.id, url=created.url, return_url=created.return_url)


def _flow_data(
    flow: PortalFlow,
    subscription_id: str | None,
    item_id: str | None,
    price_id: str | None,
    return_url: str,
) -> dict[str, Any]:
    if subscription_id is None:
        raise ValueError(f"portal flow {flow} needs a subscription")
    after = {"type": "redirect", "redirect": {"return_url": return_url}}
    if flow == "subscription_cancel":
        return {
            "type": flow,
            "subscription_cancel": {"subscription": subscription_id},
            "after_completion": after,
        }
    if flow == "subscription_update":
        return {
            "type": flow,
            "subscription_update": {"subscription": subscription_id},
            "after_completion": after,
        }
    if item_id is None or price_id is None:
        raise ValueError("portal flow subscription_update_confirm needs the item and the new price")
    confirm = {"subscription": subscription_id, "items": [{"id": item_id, "price": price_id, "quantity": 1}]}
    return {"type": flow, "subscription_update_confirm": confirm, "after_completion": after}
