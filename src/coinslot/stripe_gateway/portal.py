"""Stripe billing portal sessions: the hosted page where customers manage their subscription."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import stripe

from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_gateway.subscriptions import as_dict

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
        configuration_id: str | None = None,
    ) -> PortalSessionData:
        """A portal session, optionally opening straight on a flow (switch plan, confirm a switch, cancel).

        Portal sessions are short-lived and creating one changes nothing, so no
        idempotency key is needed: a retry just makes another link.
        """
        params: dict[str, Any] = {"customer": customer_id, "return_url": return_url}
        if configuration_id is not None:
            params["configuration"] = configuration_id
        if flow is not None:
            params["flow_data"] = _flow_data(
                flow, subscription_id, subscription_item_id, price_id, return_url
            )
        with translate_stripe_errors(f"open the billing portal for {customer_id}"):
            created = self._client.v1.billing_portal.sessions.create(params=params)  # type: ignore[arg-type]
        return PortalSessionData(id=created.id, url=created.url, return_url=created.return_url)

    def ensure_configuration(self, *, plan_prices: Mapping[str, Sequence[str]]) -> str:
        """The portal configuration that lets customers switch between the catalog's plans.

        `plan_prices` maps each plan's Stripe product id to its price ids. The
        configuration is found by a fingerprint of that content in its metadata
        and made once (the idempotency key is the fingerprint): a catalog change
        makes a new one, and the same catalog reuses it. Switches in the portal
        are prorated and invoiced at once; cancellations wait for the period end.
        """
        products = [
            {"product": product, "prices": sorted(prices)} for product, prices in sorted(plan_prices.items())
        ]
        fingerprint = hashlib.sha256(json.dumps(products).encode()).hexdigest()[:24]
        with translate_stripe_errors("find the billing portal configuration"):
            page = self._client.v1.billing_portal.configurations.list(params={"active": True, "limit": 100})
            for config in page.auto_paging_iter():
                if (as_dict(config).get("metadata") or {}).get("coinslot_portal") == fingerprint:
                    return str(config.id)
        params: dict[str, Any] = {
            "metadata": {"coinslot_portal": fingerprint},
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price"],
                    "products": products,
                    "proration_behavior": "always_invoice",
                },
                "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                "payment_method_update": {"enabled": True},
                "invoice_history": {"enabled": True},
            },
        }
        with translate_stripe_errors("create the billing portal configuration"):
            created = self._client.v1.billing_portal.configurations.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"coinslot-portal-config-{fingerprint}"},
            )
        return str(created.id)


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
