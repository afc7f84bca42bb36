"""A small host app (Patch-Hive style) using coinslot both ways.

* library mode: coinslot is mounted at /coinslot in this FastAPI app and called in-process
  (`billing.start_checkout(...)`) - the upgrade button and the return page;
* service mode: the consultation routes talk to a coinslot running elsewhere through
  `AsyncCoinslotClient` (set COINSLOT_URL and COINSLOT_API_KEY) - here, the same process.

Run it: `uvicorn examples.host_two_modes:app --port 5000` with the COINSLOT_* settings of `.env.example`.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from coinslot import library
from coinslot.client import AsyncCoinslotClient
from coinslot.config import Settings


def create_host_app(
    settings: Settings | None = None,
    *,
    coinslot_url: str | None = None,
    api_key: str | None = None,
    public_url: str | None = None,
) -> FastAPI:
    app = FastAPI(title="Patch-Hive (example host)")
    library.mount(app, settings or Settings(), path="/coinslot")

    def remote() -> AsyncCoinslotClient:
        return AsyncCoinslotClient(
            coinslot_url or os.environ.get("COINSLOT_URL", "http://127.0.0.1:5000/coinslot"),
            api_key or os.environ.get("COINSLOT_API_KEY", ""),
        )

    def here(request: Request, path: str) -> str:
        # Where the browser comes back to: this app's public address (coinslot must allow its origin).
        return (public_url or str(request.base_url)).rstrip("/") + path

    @app.get("/upgrade/{user_id}")
    def upgrade(
        user_id: str, request: Request, billing: library.BillingDep, plan: str = "pro"
    ) -> RedirectResponse:
        """The "Upgrade" button: in-process, straight to Stripe Checkout."""
        started = billing.start_checkout(
            host_user_id=user_id,
            plan=plan,
            success_url=here(request, "/account"),
            cancel_url=here(request, "/pricing"),
        )
        return RedirectResponse(started.url, status_code=303)

    @app.get("/account")
    def account(
        request: Request,
        billing: library.BillingDep,
        user_id: str,
        checkout_status: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """The success page: applies the purchase at once (never "pick a plan" again), then shows the plan."""
        if checkout_status == "success" and session_id:
            billing.fulfil_checkout(session_id, host_user_id=user_id)
        summary = billing.customer(user_id)
        return {
            "toast": "Welcome aboard!" if checkout_status == "success" else None,
            "plan": summary.plan,
            "credits": summary.credits.available,
        }

    @app.post("/consultations/{user_id}")
    async def request_consultation(user_id: str, form: dict[str, Any], request: Request) -> JSONResponse:
        """Service mode: the form is saved as a DRAFT order first, then the user goes to pay."""
        async with remote() as client:
            order = await client.create_order(host_user_id=user_id, product="consultation", payload=form)
            link = await client.start_order_checkout(
                order.id, success_url=here(request, "/account"), cancel_url=here(request, "/consultations")
            )
        return JSONResponse({"order_id": order.id, "checkout_url": link.url})

    return app


app = create_host_app()
