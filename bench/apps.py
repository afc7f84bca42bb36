"""ASGI factories that `uvicorn --factory` serves in a child process (see bench.servers).

`coinslot_app` is the product, configured from COINSLOT_* variables like any
deployment. `floor_app` is the floor of the HTTP figures: FastAPI, the same
uvicorn, the same parsing of a JSON body into a pydantic model and a JSON
answer through the same kind of route (`async def`, as coinslot's check on
SQLite), and nothing else (no database, no middleware, no auth).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel

__all__ = ["coinslot_app", "floor_app"]


def coinslot_app() -> Any:
    """The app as `coinslot serve` builds it in each process (`serve_app`)."""
    from coinslot.app import serve_app
    from coinslot.config import Settings

    return serve_app(Settings(_env_file=None), configure_logs=False)


class _CheckBody(BaseModel):
    """The shape of coinslot's CheckBody, so both servers parse the same JSON."""

    user_id: str
    feature: str
    quantity: int = 1
    params: dict[str, str] | None = None


def floor_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # The floor of the check figures is the `async def` twin below: on SQLite coinslot answers POST
    # /v1/check on the event loop (entitlements/check_lane.py). This sync `def` one, run in FastAPI's
    # threadpool, shows what that hop costs (the row's note).
    @app.post("/v1/check")
    def check(body: _CheckBody) -> dict[str, Any]:
        return {"allowed": True, "cost": body.quantity, "remaining": 100, "reason": "ok", "plan": "pro"}

    @app.post("/v1/check-async")
    async def check_async(body: _CheckBody) -> dict[str, Any]:
        return {"allowed": True, "cost": body.quantity, "remaining": 100, "reason": "ok", "plan": "pro"}

    @app.post("/webhooks/stripe")
    async def webhook(request: Request) -> dict[str, bool]:
        await request.body()
        return {"received": True, "duplicate": False}

    return app
