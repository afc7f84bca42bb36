"""A tiny "host app" that sells through coinslot: what a SaaS backend writes to use it.

It talks to coinslot over HTTP with an API key, exactly as your backend would:

    POST /v1/links          a signed link that opens the user's billing pages (pricing, billing, credits)
    POST /v1/consume        spend credits for a feature; 402 when the user is short
    GET  /v1/customers/{id} plan, subscription and credits, for the header
    POST /v1/orders         save a form as a DRAFT order before payment, then
    POST /v1/orders/{id}/checkout   send the user to Stripe's pay page

`coinslot demo` runs it next to coinslot and stripesim; `demo_controls` adds a
button that moves Stripe's test clock (to watch a renewal grant credits).
Logins are a user picker: this is a demo, not an authentication example.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

__all__ = ["DemoUser", "HostAppConfig", "create_host_app"]

USER_COOKIE = "host_user"


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    email: str


@dataclass
class HostAppConfig:
    coinslot_url: str  # where coinslot serves its API and pages
    api_key: str  # `coinslot keys create host --scope entitlements,links,billing,read`
    public_url: str  # where this app is reachable (checkout comes back here)
    app_name: str
    users: list[DemoUser]
    features: list[tuple[str, str, int, list[str]]]  # (key, name, credits, multiplier values)
    consultation: tuple[str, str, str] | None = None  # (product key, name, price text) taking a form
    # Demo only: a button per control, e.g. ("Advance the test clock to the next renewal", fn returning a
    # message), and links to what runs behind the app: (label, URL, note).
    demo_controls: list[tuple[str, Callable[[], str]]] = field(default_factory=list)
    demo_links: list[tuple[str, str, str]] = field(default_factory=list)


def _credits(count: int) -> str:
    return f"{count} credit" + ("" if count == 1 else "s")


def _go(path: str, notice: str = "", kind: str = "info") -> RedirectResponse:
    """POST-redirect-GET, with a one-off message for the next page."""
    query = f"?notice={quote(notice)}&kind={kind}" if notice else ""
    return RedirectResponse(path + query, status_code=303)


def _page(config: HostAppConfig, body: str, *, user: DemoUser | None = None, notice: str = "",
          kind: str = "info") -> HTMLResponse:
    who = (f'<span class="back">Signed in as <strong>{html.escape(user.name)}</strong> · '
           f'<a href="/logout">switch user</a></span>') if user else ""
    banner = f'<div class="notice {kind}" role="status"><p>{html.escape(notice)}</p></div>' if notice else ""
    return HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(config.app_name)} · demo host app</title>
<link rel="stylesheet" href="{config.coinslot_url}/static/app.css"></head>
<body><header><div><strong>{html.escape(config.app_name)}</strong>
<small class="muted">the sample host app</small>{who}</div></header><main>{banner}{body}</main>
<footer>This page belongs to the host app; billing pages come from coinslot.</footer></body></html>""")


def create_host_app(config: HostAppConfig) -> FastAPI:
    app = FastAPI(title=f"{config.app_name} (demo host app)", docs_url=None, redoc_url=None)
    api = httpx.Client(base_url=config.coinslot_url, timeout=30,
                       headers={"Authorization": f"Bearer {config.api_key}"})
    users = {user.id: user for user in config.users}

    def current(request: Request) -> DemoUser | None:
        return users.get(request.cookies.get(USER_COOKIE, ""))

    def billing_link(user: DemoUser, page: str) -> str:
        answer = api.post("/v1/links", json={
            "host_user_id": user.id, "email": user.email, "name": user.name, "page": page,
            "return_url": config.public_url + "/",
        })
        answer.raise_for_status()
        url: str = answer.json()["url"]
        return url

    @app.get("/")
    def home(request: Request, notice: str = "", kind: str = "info", checkout_status: str = "",
             session_id: str = "") -> Response:
        user = current(request)
        if user is None:
            return _login_page(config)
        if checkout_status == "success" and session_id:
            # Back from Stripe: apply the payment now, so the order shows as paid at once.
            api.post(f"/v1/checkout/sessions/{quote(session_id)}/fulfil", params={"host_user_id": user.id})
            return _go("/", "Consultation requested! A dermatologist will review your scan within "
                            "24-48 hours.", "good")
        if checkout_status == "cancel":
            return _go("/", "Checkout canceled. Your form is saved as a draft: pay it any time below.")
        summary = api.get(f"/v1/customers/{quote(user.id)}")
        orders = api.get("/v1/orders", params={"host_user_id": user.id}).json() if config.consultation else []
        body = _dashboard(config, summary.json() if summary.status_code == 200 else None, orders)
        return _page(config, body, user=user, notice=notice,
                     kind=kind if kind in ("info", "good", "bad") else "info")

    @app.post("/login")
    def login(user_id: Annotated[str, Form()]) -> Response:
        response = _go("/")
        if user_id in users:
            response.set_cookie(USER_COOKIE, user_id, httponly=True, samesite="lax")
        return response

    @app.get("/logout")
    def logout() -> Response:
        response = _go("/")
        response.delete_cookie(USER_COOKIE)
        return response

    @app.post("/billing/{page}")
    def open_billing(page: str, request: Request) -> Response:
        """The host's side of a billing link: ask coinslot for a signed URL, send the browser there."""
        user = current(request)
        if user is None or page not in ("billing", "pricing", "credits"):
            return _go("/")
        return RedirectResponse(billing_link(user, page), status_code=303)

    @app.post("/use")
    def use_feature(request: Request, feature: Annotated[str, Form()],
                    complexity: Annotated[str, Form()] = "") -> Response:
        user = current(request)
        if user is None:
            return _go("/")
        body: dict[str, Any] = {"user_id": user.id, "feature": feature, "idempotency_key": uuid.uuid4().hex}
        if complexity:
            body["params"] = {"complexity": complexity}
        answer = api.post("/v1/consume", json=body)
        if answer.status_code == 200:
            used = answer.json()
            left = "unlimited" if used["remaining"] is None else f"{_credits(used['remaining'])} left"
            return _go("/", f"Done: that cost {used['cost']} credits ({left}).", "good")
        error = answer.json().get("error", {})
        return _go("/", f"Refused ({answer.status_code}): {error.get('message', answer.text)}", "bad")

    @app.post("/consultation")
    def consultation(request: Request, notes: Annotated[str, Form()],
                     image_urls: Annotated[str, Form()] = "") -> Response:
        user = current(request)
        if user is None or config.consultation is None:
            return _go("/")
        payload = {"notes": notes, "image_urls": [u.strip() for u in image_urls.splitlines() if u.strip()]}
        order = api.post("/v1/orders", json={"host_user_id": user.id, "email": user.email,
                                             "product": config.consultation[0], "payload": payload})
        order.raise_for_status()
        return pay(order.json()["id"], user)

    @app.post("/orders/{order_id}/pay")
    def pay_order(order_id: str, request: Request) -> Response:
        user = current(request)
        return pay(order_id, user) if user else _go("/")

    def pay(order_id: str, user: DemoUser) -> Response:
        # host_user_id: coinslot checks the order is this user's, whatever id the form carried.
        started = api.post(f"/v1/orders/{quote(order_id)}/checkout", json={
            "success_url": config.public_url + "/", "cancel_url": config.public_url + "/",
            "host_user_id": user.id,
        })
        if started.status_code != 201:
            return _go("/", started.json().get("error", {}).get("message", started.text), "bad")
        return RedirectResponse(started.json()["url"], status_code=303)

    @app.post("/demo/{index}")
    def demo_control(index: int) -> Response:
        if not 0 <= index < len(config.demo_controls):
            return _go("/")
        return _go("/", config.demo_controls[index][1](), "good")

    return app


def _login_page(config: HostAppConfig) -> HTMLResponse:
    options = "".join(
        f'<li><form method="post" action="/login"><input type="hidden" name="user_id" '
        f'value="{html.escape(u.id)}"><button type="submit" class="secondary">{html.escape(u.name)}</button> '
        f'<small class="muted">{html.escape(u.email)}</small></form></li>'
        for u in config.users
    )
    body = (f"<section><h1>Sign in to {html.escape(config.app_name)}</h1>"
            "<p>Pick a demo user. Each one is a separate customer in coinslot.</p>"
            f'<ul style="list-style:none;padding:0;display:grid;gap:.6rem">{options}</ul></section>')
    return _page(config, body)


def _plan_card(summary: dict[str, Any] | None) -> str:
    plan = html.escape(summary["plan_name"]) if summary else "Free"
    credits = (summary or {}).get("credits") or {}
    left = "unlimited credits" if credits.get("unlimited") else _credits(credits.get("available", 0))
    status = ""
    subscription = (summary or {}).get("subscription")
    if subscription:
        status = f' <span class="badge {subscription["status"]}">{subscription["status"]}</span>'
    buttons = "".join(
        f'<form method="post" action="/billing/{page}">'
        f'<button type="submit" class="{cls}">{label}</button></form>'
        for page, label, cls in (("pricing", "See plans", ""), ("billing", "Billing", "secondary"),
                                 ("credits", "Buy credits", "secondary"))
    )
    return (f'<section><h2>Your plan</h2><p class="figure">{plan}{status}</p><p>{left}</p>'
            f'<div class="row">{buttons}</div></section>')


def _features_card(config: HostAppConfig) -> str:
    forms = []
    for key, name, cost, multipliers in config.features:
        choice = ""
        if multipliers:
            options = "".join(f'<option value="{html.escape(m)}">{html.escape(m)}</option>'
                              for m in multipliers)
            choice = (f'<label for="c-{key}">Complexity</label>'
                      f'<select id="c-{key}" name="complexity" style="max-width:10rem">{options}</select>')
        forms.append(
            f'<form method="post" action="/use" style="margin-bottom:.75rem">'
            f'<input type="hidden" name="feature" value="{html.escape(key)}">{choice}'
            f'<button type="submit">{html.escape(name)} ({cost} credits)</button></form>'
        )
    if not forms:
        return ""
    return (f'<section><h2>Use a feature</h2>{"".join(forms)}'
            '<p class="muted"><small>Each use spends credits through <code>POST /v1/consume</code>; '
            "when you are short coinslot answers 402.</small></p></section>")


def _controls_card(config: HostAppConfig) -> str:
    if not config.demo_controls:
        return ""
    buttons = "".join(f'<form method="post" action="/demo/{index}" style="margin-bottom:.5rem">'
                      f'<button type="submit" class="secondary">{html.escape(label)}</button></form>'
                      for index, (label, _run) in enumerate(config.demo_controls))
    links = "".join(f'<li><a href="{html.escape(url)}">{html.escape(label)}</a>'
                    + (f' <small class="muted">{html.escape(note)}</small>' if note else "") + "</li>"
                    for label, url, note in config.demo_links)
    behind = f"<h3>Behind the app</h3><ul>{links}</ul>" if links else ""
    return (f"<section><h2>Demo controls</h2>{buttons}<p class='muted'><small>Moves Stripe's test clock "
            "(stripesim) and coinslot's clock together past the next renewal, waits until coinslot has "
            f"applied Stripe's webhooks, then says what changed.</small></p>{behind}</section>")


def _consultation_card(config: HostAppConfig, orders: list[dict[str, Any]]) -> str:
    if config.consultation is None:
        return ""
    _key, name, price = config.consultation
    rows = "".join(
        f"<tr><td><code>{html.escape(o['id'])}</code></td><td>{html.escape(o['status'])}</td><td>"
        + (f'<form method="post" action="/orders/{html.escape(o["id"])}/pay"><button type="submit" '
           'class="secondary">Resume payment</button></form>' if o["status"] == "draft" else "")
        + "</td></tr>"
        for o in orders
    )
    table = (f"<table><thead><tr><th>Order</th><th>Status</th><th></th></tr></thead><tbody>{rows}</tbody>"
             "</table>") if rows else ""
    return f"""<section style="margin-top:1.25rem"><h2>{html.escape(name)} ({html.escape(price)})</h2>
<p class="muted">Your answers are saved as a draft before payment: abandon the checkout, lose nothing.</p>
<form method="post" action="/consultation"><label for="notes">What should the dermatologist look at?</label>
<textarea id="notes" name="notes" rows="3" required></textarea>
<label for="images" style="margin-top:.6rem">Image URLs (one per line)</label>
<textarea id="images" name="image_urls" rows="2"></textarea>
<p style="margin-top:.75rem"><button type="submit">Save and pay</button></p></form>{table}</section>"""


def _dashboard(config: HostAppConfig, summary: dict[str, Any] | None, orders: list[dict[str, Any]]) -> str:
    cards = _plan_card(summary) + _features_card(config) + _controls_card(config)
    welcome = f'<header><h1>Welcome</h1></header><div class="grid">{cards}</div>'
    return welcome + _consultation_card(config, orders)
