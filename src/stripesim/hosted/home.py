"""`GET /`: what runs here and how to use it (base URL, SDK set-up, test cards, webhook
endpoints, control routes, recent hosted pages); the stylesheet, script and favicon the
hosted pages load, served from the package (no external assets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..cards import TEST_CARDS, CardSpec
from ..routing import Route as ApiRoute
from ..sim import Sim
from ..versions import DEFAULT as DEFAULT_API_VERSION
from .card_tiles import card_label
from .render import business_name, locked, page

__all__ = ["asgi_routes"]

_STATIC = Path(__file__).parent / "static"
_ASSETS = {"stripesim.css": "text/css; charset=utf-8",
           "stripesim.js": "text/javascript; charset=utf-8"}
# Control routes whose handlers carry no docstring, described here.
_CONTROL_HELP = {
    ("GET", "/_sim/health"): "Liveness and the API version served.",
    ("POST", "/_sim/reset"): "Forget every object, queued delivery and idempotency key.",
    ("GET", "/_sim/faults"): "The fault injection in force.",
    ("DELETE", "/_sim/faults"): "Turn every fault off.",
    ("GET", "/_sim/billing/settings"): "What happens after the last failed payment retry.",
    ("POST", "/_sim/checkout/sessions/{id}/expire"): "Expire an open Checkout Session.",
    ("POST", "/_sim/payment_intents/{id}/authenticate"):
        'Answer a 3D Secure challenge: {"outcome": "succeed" | "fail"}.',
}


def _behaviour(spec: CardSpec) -> str:
    if spec.outcome == "succeed":
        return "succeeds"
    if spec.outcome == "requires_action":
        return ("needs 3D Secure on-session; off-session charges pass once set up"
                if spec.setup_skips_auth else "needs 3D Secure on every payment")
    saved = "" if spec.attachable else "; cannot be saved to a customer"
    return f"declines ({spec.decline_code or spec.code}){saved}"


def _cards() -> list[dict[str, str]]:
    return [{"alias": alias, "card": card_label(spec.brand, spec.last4),
             "behaviour": _behaviour(spec)} for alias, spec in TEST_CARDS.items()]


def _first_paragraph(doc: str | None) -> str:
    text = (doc or "").strip().split("\n\n")[0]
    return " ".join(text.split()).replace("`", "").removeprefix("Test helper: ")


def _control(routes: list[ApiRoute]) -> list[dict[str, str]]:
    rows = [{"method": r.method, "path": r.pattern,
             "does": _CONTROL_HELP.get((r.method, r.pattern))
             or _first_paragraph(r.handler.__doc__)} for r in routes]
    return sorted(rows, key=lambda row: (row["path"], row["method"]))


def _recent(sim: Sim) -> dict[str, list[dict[str, Any]]]:
    """The last few open Checkout pages and finalized invoices: somewhere to click."""
    store = sim.store
    sessions = [s for s in store.all("checkout.session") if s["status"] == "open"][-5:]
    invoices = [i for i in store.all("invoice")
                if i.get("status") not in (None, "draft") and i.get("hosted_invoice_url")][-5:]
    return {"sessions": [{"id": s["id"], "url": f"/c/pay/{s['id']}", "mode": s["mode"]}
                         for s in reversed(sessions)],
            "invoices": [{"number": i.get("number") or i["id"], "url": f"/i/{i['id']}",
                          "status": i["status"]} for i in reversed(invoices)]}


@locked
def home(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    endpoints = [{"url": e["url"], "status": e["status"], "events": ", ".join(e["enabled_events"])}
                 for e in sim.store.all("webhook_endpoint")]
    return page("home.html", base=str(request.base_url).rstrip("/"),
                host=request.url.hostname or "127.0.0.1", port=request.url.port or 80,
                api_version=DEFAULT_API_VERSION, cards=_cards(), endpoints=endpoints,
                control=_control(request.app.state.control_routes), recent=_recent(sim),
                business=business_name(sim.store))


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _ASSETS:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response((_STATIC / name).read_bytes(), media_type=_ASSETS[name],
                    headers={"Cache-Control": "public, max-age=3600"})


async def favicon(request: Request) -> Response:
    # Browsers ask for /favicon.ico on pages without a <link rel=icon>: both answer the SVG.
    return Response((_STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


asgi_routes = [
    Route("/", home, methods=["GET"]),
    Route("/assets/{name}", asset, methods=["GET"]),
    Route("/favicon.svg", favicon, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
]
