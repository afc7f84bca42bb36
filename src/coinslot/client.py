"""The host-side Python client, for apps that run coinslot as a service.

    from coinslot.client import CoinslotClient
    billing = CoinslotClient("http://billing.internal:8000", api_key="cs_...")
    link = billing.start_checkout(host_user_id="user_42", plan="pro", interval="month",
                                  success_url="https://app.example.com/billing",
                                  cancel_url="https://app.example.com/pricing")
    return RedirectResponse(link.url)

Errors come back as CoinslotClientError carrying coinslot's `code`, `message`,
`field` and HTTP status (402 insufficient credits, 404, 409, 422, 503 ...).
Apps that mount coinslot into their own FastAPI app use `coinslot.library` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

__all__ = ["CheckoutLink", "CoinslotClient", "CoinslotClientError"]


class CoinslotClientError(Exception):
    """coinslot answered with an error (or could not be reached: status 0, code "unreachable")."""

    def __init__(
        self, status: int, code: str, message: str, field: str | None = None, retry_after_s: int | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class CheckoutLink:
    """Where to send the user's browser, and what it is for."""

    session_id: str
    url: str
    mode: str
    order_id: str | None
    amount_total_minor: int
    currency: str


class CoinslotClient:
    """A synchronous client of coinslot's /v1 API. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}"},
        )

    def __enter__(self) -> CoinslotClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        clean = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            response = self._http.request(method, path, json=json, params=clean)
        except httpx.HTTPError as exc:
            raise CoinslotClientError(0, "unreachable", f"coinslot could not be reached: {exc}") from exc
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            retry = response.headers.get("retry-after")
            raise CoinslotClientError(
                response.status_code,
                error.get("code", "error"),
                error.get("message", response.text[:200]),
                error.get("field"),
                int(retry) if retry and retry.isdigit() else None,
            )
        return response.json()

    # --- customers ------------------------------------------------------------------------------------

    def ensure_customer(
        self, *, host_user_id: str, email: str | None = None, name: str | None = None, stripe: bool = True
    ) -> dict[str, Any]:
        """Get or create the customer (and by default its Stripe customer)."""
        body = {"host_user_id": host_user_id, "email": email, "name": name, "stripe": stripe}
        result: dict[str, Any] = self._call("POST", "/v1/customers", json=body)
        return result

    def customer(self, host_user_id: str) -> dict[str, Any]:
        """Plan, subscription status and dates, and credits."""
        result: dict[str, Any] = self._call("GET", f"/v1/customers/{host_user_id}")
        return result

    # --- checkout -------------------------------------------------------------------------------------

    def start_checkout(
        self,
        *,
        host_user_id: str,
        success_url: str,
        cancel_url: str,
        plan: str | None = None,
        interval: str | None = None,
        product: str | None = None,
        pack: str | None = None,
        quantity: int = 1,
        payload: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> CheckoutLink:
        """Start a hosted Checkout for a plan, a one-time product (with an order payload) or a credit pack."""
        body = {
            "host_user_id": host_user_id,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "plan": plan,
            "interval": interval,
            "product": product,
            "pack": pack,
            "quantity": quantity,
            "payload": payload,
            "email": email,
        }
        return self._link(
            self._call(
                "POST",
                "/v1/checkout/sessions",
                json={key: value for key, value in body.items() if value is not None},
            )
        )

    def fulfil_checkout(self, session_id: str, *, host_user_id: str | None = None) -> dict[str, Any]:
        """Call from the success page: applies the purchase now if it is paid (idempotent)."""
        result: dict[str, Any] = self._call(
            "POST", f"/v1/checkout/sessions/{session_id}/fulfil", params={"host_user_id": host_user_id}
        )
        return result

    # --- orders ---------------------------------------------------------------------------------------

    def create_order(self, *, host_user_id: str, product: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Save a DRAFT order with the user's form, before sending them to pay."""
        result: dict[str, Any] = self._call(
            "POST", "/v1/orders", json={"host_user_id": host_user_id, "product": product, "payload": payload}
        )
        return result

    def order(self, order_id: str, *, host_user_id: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", f"/v1/orders/{order_id}", params={"host_user_id": host_user_id}
        )
        return result

    def orders(self, *, host_user_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            "GET", "/v1/orders", params={"host_user_id": host_user_id, "status": status}
        )
        return result

    def checkout_order(self, order_id: str, *, success_url: str, cancel_url: str) -> CheckoutLink:
        """Checkout for a DRAFT order: first time, or resuming after an abandoned one."""
        return self._link(
            self._call(
                "POST",
                f"/v1/orders/{order_id}/checkout",
                json={"success_url": success_url, "cancel_url": cancel_url},
            )
        )

    def set_order_status(self, order_id: str, status: str) -> dict[str, Any]:
        """Move an order on: "fulfilled" or "canceled"."""
        result: dict[str, Any] = self._call("POST", f"/v1/orders/{order_id}/status", json={"status": status})
        return result

    # --- entitlements and credits ---------------------------------------------------------------------

    def check(
        self, *, user_id: str, feature: str, quantity: int = 1, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """May the user use `feature` now? `{allowed, cost, remaining, reason, plan}`; nothing is spent."""
        body = {"user_id": user_id, "feature": feature, "quantity": quantity, "params": params or {}}
        result: dict[str, Any] = self._call("POST", "/v1/check", json=body)
        return result

    def consume(
        self,
        *,
        user_id: str,
        feature: str,
        idempotency_key: str,
        quantity: int = 1,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Check and spend in one call. Refused: CoinslotClientError with status 402 and the reason as code.

        The same `idempotency_key` is charged once, however often the call is retried.
        """
        body = {
            "user_id": user_id,
            "feature": feature,
            "quantity": quantity,
            "params": params or {},
            "idempotency_key": idempotency_key,
        }
        result: dict[str, Any] = self._call("POST", "/v1/consume", json=body)
        return result

    def hold(
        self,
        *,
        user_id: str,
        feature: str,
        idempotency_key: str,
        credits: int | None = None,
        timeout_s: int = 900,
    ) -> dict[str, Any]:
        """Reserve credits before a long job; capture or release it afterwards (it releases itself)."""
        body = {
            "user_id": user_id,
            "feature": feature,
            "idempotency_key": idempotency_key,
            "credits": credits,
            "timeout_s": timeout_s,
        }
        result: dict[str, Any] = self._call("POST", "/v1/holds", json=body)
        return result

    def capture(self, hold_id: int, *, credits: int) -> dict[str, Any]:
        """Charge a hold's actual cost; below the hold gives the rest back."""
        result: dict[str, Any] = self._call("POST", f"/v1/holds/{hold_id}/capture", json={"credits": credits})
        return result

    def release(self, hold_id: int) -> dict[str, Any]:
        """Give a hold's credits back unused."""
        result: dict[str, Any] = self._call("POST", f"/v1/holds/{hold_id}/release")
        return result

    def credits(self, host_user_id: str) -> dict[str, Any]:
        """The balance: `available_credits`, `held_credits`, `debt_credits`, `period_credits`."""
        result: dict[str, Any] = self._call("GET", f"/v1/credits/{host_user_id}")
        return result

    @staticmethod
    def _link(body: dict[str, Any]) -> CheckoutLink:
        return CheckoutLink(
            body["session_id"],
            body["url"],
            body["mode"],
            body.get("order_id"),
            body["amount_total_minor"],
            body["currency"],
        )
