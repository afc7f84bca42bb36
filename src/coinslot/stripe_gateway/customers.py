"""Stripe customers: find, create, retrieve, and the dataclass they return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

from coinslot.errors import StripeUnavailable
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_ids import checked_stripe_id

__all__ = ["RequestInFlight", "StripeCustomerData", "StripeCustomers"]


class RequestInFlight(StripeUnavailable):
    """Stripe is still working on a request with the same idempotency key (HTTP 409): ask again shortly."""

    code = "stripe_request_in_flight"


@dataclass(frozen=True, slots=True)
class StripeCustomerData:
    id: str
    email: str | None
    name: str | None
    metadata: dict[str, str]
    livemode: bool
    test_clock_id: str | None = None  # test mode: the test clock the customer lives on


def _customer(obj: Any) -> StripeCustomerData:
    # stripe 16's objects are not dicts: read them as plain data, once.
    data: dict[str, Any] = obj.to_dict()
    return StripeCustomerData(
        id=data["id"],
        email=data.get("email"),
        name=data.get("name"),
        metadata=dict(data.get("metadata") or {}),
        livemode=bool(data.get("livemode")),
        test_clock_id=_clock_id(data.get("test_clock")),
    )


def _clock_id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def _quoted(value: str) -> str:
    # Stripe's search language quotes with double quotes; a quote inside is escaped with a backslash.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class StripeCustomers:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def find_by_metadata(self, key: str, value: str) -> list[StripeCustomerData]:
        """Customers whose metadata[key] == value (Stripe search; may lag writes by seconds)."""
        query = f"metadata[{_quoted(key)}]:{_quoted(value)}"
        with translate_stripe_errors("search customers"):
            result = self._client.v1.customers.search(params={"query": query, "limit": 10})
            return [_customer(obj) for obj in result.data]

    def find_by_email(self, email: str) -> list[StripeCustomerData]:
        """Customers with exactly this email (the list filter is read-after-write consistent)."""
        with translate_stripe_errors("list customers by email"):
            page = self._client.v1.customers.list(params={"email": email, "limit": 10})
            return [_customer(obj) for obj in page.data]

    def list_all(self, *, page_size: int = 100) -> list[StripeCustomerData]:
        """Every customer of the account (deleted ones are not listed), a page of `page_size` per call."""
        with translate_stripe_errors("list customers"):
            page = self._client.v1.customers.list(params={"limit": page_size})
            return [_customer(obj) for obj in page.auto_paging_iter()]

    def create(
        self, *, email: str | None, name: str | None, metadata: dict[str, str], idempotency_key: str
    ) -> StripeCustomerData:
        params: dict[str, Any] = {"metadata": metadata}
        if email:
            params["email"] = email
        if name:
            params["name"] = name
        with translate_stripe_errors("create customer"):
            try:
                obj = self._client.v1.customers.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                )
            except stripe.StripeError as exc:
                if exc.http_status == 409:
                    raise RequestInFlight(
                        f"create customer: request {idempotency_key} still in flight"
                    ) from exc
                raise
        return _customer(obj)

    def add_metadata(self, customer_id: str, metadata: dict[str, str]) -> StripeCustomerData:
        checked_stripe_id(customer_id, "cus", field="customer_id")
        with translate_stripe_errors(f"update customer {customer_id}"):
            obj = self._client.v1.customers.update(customer_id, params={"metadata": metadata})
        return _customer(obj)

    def retrieve(self, customer_id: str) -> StripeCustomerData:
        checked_stripe_id(customer_id, "cus", field="customer_id")
        with translate_stripe_errors(f"retrieve customer {customer_id}"):
            return _customer(self._client.v1.customers.retrieve(customer_id))
