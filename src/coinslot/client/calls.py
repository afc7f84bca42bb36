"""The API's operations as data: each function builds the request of one operation and says how to read
its answer. No I/O: `CoinslotClient` (sync) and `AsyncCoinslotClient` (async) send the same `Call`s, so
each operation is written once for both.

The answers are the server's own response models (the ones the OpenAPI document is generated from), so
the client cannot drift from the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter

from coinslot.catalog.schemas import CatalogOut
from coinslot.checkout.schemas import CheckoutStarted, FulfilAnswer, OrderOut
from coinslot.customers.schemas import CustomerOut
from coinslot.entitlements.schemas import DecisionOut, HoldOut, UseOut
from coinslot.ledger.schemas import BalanceOut, EntryOut, LedgerPage, UsageOut
from coinslot.overview.schemas import CustomerStateOut, CustomerSummary
from coinslot.subscriptions.schemas import ChangePreviewOut, ItemsPreviewOut, PortalOut, SubscriptionOut
from coinslot.topups.schemas import AutoTopupOut, SetupStarted
from coinslot.web.links import LinkAnswer
from coinslot.webhooks.schemas import EventDetailOut, EventPage

__all__ = ["Call", "Interval"]

T = TypeVar("T")
Interval = Literal["month", "year"]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request and how to read its answer. `retry_safe`: sending it twice changes nothing more than
    sending it once (a read, or a write carrying an idempotency key), so a client may retry it."""

    method: Literal["GET", "POST", "DELETE"]
    path: str
    read: Callable[[Any], T]
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    retry_safe: bool = True


def _model(model: type[T]) -> Callable[[Any], T]:
    return TypeAdapter(model).validate_python


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


def _body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the optional fields left out (None)."""
    return {name: value for name, value in fields.items() if value is not None}


# --- entitlements -----------------------------------------------------------------------------------------

def check(*, host_user_id: str, feature: str, quantity: int = 1,
          params: dict[str, str] | None = None) -> Call[DecisionOut]:
    return Call("POST", "/v1/check", _model(DecisionOut), json=_body(
        host_user_id=host_user_id, feature=feature, quantity=quantity, params=params or {}))


def consume(*, host_user_id: str, feature: str, idempotency_key: str, quantity: int = 1,
            params: dict[str, str] | None = None) -> Call[UseOut]:
    return Call("POST", "/v1/consume", _model(UseOut), json=_body(
        host_user_id=host_user_id, feature=feature, quantity=quantity, params=params or {},
        idempotency_key=idempotency_key))


def create_hold(*, host_user_id: str, feature: str, idempotency_key: str, credits: int | None = None,
                timeout_s: int = 900, quantity: int = 1,
                params: dict[str, str] | None = None) -> Call[HoldOut]:
    return Call("POST", "/v1/holds", _model(HoldOut), json=_body(
        host_user_id=host_user_id, feature=feature, idempotency_key=idempotency_key, credits=credits,
        timeout_s=timeout_s, quantity=quantity, params=params or {}))


def capture_hold(hold_id: int, *, credits: int) -> Call[EntryOut]:
    # A hold resolves once: a retry answers with the same entry.
    return Call("POST", f"/v1/holds/{_segment(hold_id)}/capture", _model(EntryOut), json={"credits": credits})


def release_hold(hold_id: int) -> Call[EntryOut]:
    return Call("POST", f"/v1/holds/{_segment(hold_id)}/release", _model(EntryOut))


# --- checkout and orders ----------------------------------------------------------------------------------

def start_checkout(*, host_user_id: str, success_url: str, cancel_url: str, plan: str | None = None,
                   interval: Interval | None = None, product: str | None = None, pack: str | None = None,
                   lookup_key: str | None = None, quantity: int = 1, payload: dict[str, Any] | None = None,
                   email: str | None = None, name: str | None = None) -> Call[CheckoutStarted]:
    # Retry-safe: a second start of the same item reuses the open session.
    return Call("POST", "/v1/checkout/sessions", _model(CheckoutStarted), json=_body(
        host_user_id=host_user_id, success_url=success_url, cancel_url=cancel_url, plan=plan,
        interval=interval, product=product, pack=pack, lookup_key=lookup_key, quantity=quantity,
        payload=payload, email=email, name=name))


def fulfil_checkout(session_id: str, *, host_user_id: str | None = None) -> Call[FulfilAnswer]:
    return Call("POST", f"/v1/checkout/sessions/{_segment(session_id)}/fulfil", _model(FulfilAnswer),
                params=_body(host_user_id=host_user_id))


def create_order(*, host_user_id: str, product: str, payload: dict[str, Any],
                 email: str | None = None) -> Call[OrderOut]:
    # Not retried: a second call saves a second draft.
    return Call("POST", "/v1/orders", _model(OrderOut), retry_safe=False, json=_body(
        host_user_id=host_user_id, product=product, payload=payload, email=email))


def list_orders(*, host_user_id: str | None = None, status: str | None = None,
                limit: int = 50) -> Call[list[OrderOut]]:
    return Call("GET", "/v1/orders", _model(list[OrderOut]),
                params=_body(host_user_id=host_user_id, status=status, limit=limit))


def get_order(order_id: str, *, host_user_id: str | None = None) -> Call[OrderOut]:
    return Call("GET", f"/v1/orders/{_segment(order_id)}", _model(OrderOut),
                params=_body(host_user_id=host_user_id))


def start_order_checkout(order_id: str, *, success_url: str, cancel_url: str,
                         host_user_id: str | None = None) -> Call[CheckoutStarted]:
    return Call("POST", f"/v1/orders/{_segment(order_id)}/checkout", _model(CheckoutStarted), json=_body(
        success_url=success_url, cancel_url=cancel_url, host_user_id=host_user_id))


def set_order_status(order_id: str, status: Literal["fulfilled", "canceled"], *,
                     host_user_id: str | None = None) -> Call[OrderOut]:
    return Call("POST", f"/v1/orders/{_segment(order_id)}/status", _model(OrderOut),
                json=_body(status=status, host_user_id=host_user_id))


# --- customers, state and credits -------------------------------------------------------------------------

def ensure_customer(*, host_user_id: str, email: str | None = None, name: str | None = None,
                    stripe: bool = True) -> Call[CustomerOut]:
    return Call("POST", "/v1/customers", _model(CustomerOut), json=_body(
        host_user_id=host_user_id, email=email, name=name, stripe=stripe))


def get_customer(host_user_id: str) -> Call[CustomerSummary]:
    return Call("GET", f"/v1/customers/{_segment(host_user_id)}", _model(CustomerSummary))


def get_customer_state(host_user_id: str) -> Call[CustomerStateOut]:
    return Call("GET", f"/v1/customers/{_segment(host_user_id)}/state", _model(CustomerStateOut))


def get_credits(host_user_id: str) -> Call[BalanceOut]:
    return Call("GET", f"/v1/credits/{_segment(host_user_id)}", _model(BalanceOut))


def get_auto_topup(host_user_id: str) -> Call[AutoTopupOut]:
    return Call("GET", f"/v1/customers/{_segment(host_user_id)}/auto_topup", _model(AutoTopupOut))


def turn_on_auto_topup(host_user_id: str, *, consent: bool, success_url: str, cancel_url: str,
                       pack: str | None = None) -> Call[SetupStarted]:
    # Not retry-safe: each call starts a new card set-up at Stripe.
    return Call("POST", f"/v1/customers/{_segment(host_user_id)}/auto_topup", _model(SetupStarted),
                json=_body(consent=consent, pack=pack, success_url=success_url, cancel_url=cancel_url),
                retry_safe=False)


def turn_off_auto_topup(host_user_id: str) -> Call[AutoTopupOut]:
    return Call("DELETE", f"/v1/customers/{_segment(host_user_id)}/auto_topup", _model(AutoTopupOut))


def list_ledger_entries(host_user_id: str, *, after: int | None = None, before: int | None = None,
                        limit: int = 50) -> Call[LedgerPage]:
    return Call("GET", f"/v1/customers/{_segment(host_user_id)}/ledger", _model(LedgerPage),
                params=_body(after=after, before=before, limit=limit))


def get_usage_history(host_user_id: str, *, months: int = 6) -> Call[list[UsageOut]]:
    return Call("GET", f"/v1/credits/{_segment(host_user_id)}/history", _model(list[UsageOut]),
                params={"months": months})


def spend_credits(host_user_id: str, *, credits: int, idempotency_key: str,
                  feature: str | None = None) -> Call[EntryOut]:
    return Call("POST", f"/v1/credits/{_segment(host_user_id)}/spend", _model(EntryOut), json=_body(
        credits=credits, idempotency_key=idempotency_key, feature=feature))


def adjust_credits(host_user_id: str, *, credits: int, reason: str, idempotency_key: str) -> Call[EntryOut]:
    return Call("POST", f"/v1/credits/{_segment(host_user_id)}/adjustments", _model(EntryOut), json=_body(
        credits=credits, reason=reason, idempotency_key=idempotency_key))


# --- subscriptions, portal, links -------------------------------------------------------------------------

def _subscription(host_user_id: str, action: str) -> str:
    return f"/v1/customers/{_segment(host_user_id)}/subscription/{action}"


def cancel_subscription(host_user_id: str) -> Call[SubscriptionOut]:
    return Call("POST", _subscription(host_user_id, "cancel"), _model(SubscriptionOut))


def resume_subscription(host_user_id: str) -> Call[SubscriptionOut]:
    return Call("POST", _subscription(host_user_id, "resume"), _model(SubscriptionOut))


def change_plan(host_user_id: str, *, plan: str, interval: Interval | None = None,
                timing: Literal["now", "period_end"] | None = None,
                proration_date: int | None = None) -> Call[SubscriptionOut]:
    return Call("POST", _subscription(host_user_id, "change"), _model(SubscriptionOut), json=_body(
        plan=plan, interval=interval, timing=timing, proration_date=proration_date))


def preview_plan_change(host_user_id: str, *, plan: str,
                        interval: Interval | None = None) -> Call[ChangePreviewOut]:
    return Call("POST", _subscription(host_user_id, "change/preview"), _model(ChangePreviewOut),
                json=_body(plan=plan, interval=interval))


def preview_seats(host_user_id: str, *, seats: int) -> Call[ItemsPreviewOut]:
    return Call("POST", _subscription(host_user_id, "seats/preview"), _model(ItemsPreviewOut),
                json=_body(seats=seats))


def change_seats(host_user_id: str, *, seats: int,
                 proration_date: int | None = None) -> Call[SubscriptionOut]:
    # Not retry-safe: a second call after the seats changed is refused (same_seats), not replayed.
    return Call("POST", _subscription(host_user_id, "seats"), _model(SubscriptionOut),
                json=_body(seats=seats, proration_date=proration_date), retry_safe=False)


def preview_addon(host_user_id: str, *, addon: str,
                  action: Literal["add", "remove"] = "add") -> Call[ItemsPreviewOut]:
    return Call("POST", _subscription(host_user_id, "addons/preview"), _model(ItemsPreviewOut),
                json=_body(addon=addon, action=action))


def add_addon(host_user_id: str, *, addon: str, proration_date: int | None = None) -> Call[SubscriptionOut]:
    return Call("POST", _subscription(host_user_id, "addons"), _model(SubscriptionOut),
                json=_body(addon=addon, proration_date=proration_date), retry_safe=False)


def remove_addon(host_user_id: str, addon: str) -> Call[SubscriptionOut]:
    path = _subscription(host_user_id, f"addons/{_segment(addon)}")
    return Call("DELETE", path, _model(SubscriptionOut), retry_safe=False)


def create_portal_session(host_user_id: str, *, return_url: str, flow: str | None = None,
                          plan: str | None = None, interval: Interval | None = None) -> Call[PortalOut]:
    return Call("POST", f"/v1/customers/{_segment(host_user_id)}/portal", _model(PortalOut), json=_body(
        return_url=return_url, flow=flow, plan=plan, interval=interval))


def create_link(*, host_user_id: str, page: Literal["billing", "pricing", "credits"] = "billing",
                return_url: str | None = None, email: str | None = None,
                name: str | None = None) -> Call[LinkAnswer]:
    return Call("POST", "/v1/links", _model(LinkAnswer), json=_body(
        host_user_id=host_user_id, page=page, return_url=return_url, email=email, name=name))


# --- catalog and events -----------------------------------------------------------------------------------

def list_plans() -> Call[CatalogOut]:
    return Call("GET", "/v1/plans", _model(CatalogOut))


def list_events(*, status: str | None = None, type: str | None = None, object_id: str | None = None,
                before: int | None = None, limit: int = 50) -> Call[EventPage]:
    return Call("GET", "/v1/events", _model(EventPage), params=_body(
        status=status, type=type, object_id=object_id, before=before, limit=limit))


def get_event(event_id: str) -> Call[EventDetailOut]:
    return Call("GET", f"/v1/events/{_segment(event_id)}", _model(EventDetailOut))
