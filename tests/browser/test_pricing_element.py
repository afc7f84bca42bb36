"""`<coinslot-pricing-table>` on a host's own page, in Chromium: the page is served by a small host app on
another origin, loads the element from coinslot (`/static/elements/...`, a cross-origin module script) and
reads the real catalog from coinslot's public `GET /v1/plans`. A click goes to the host's checkout URL,
which starts a real Checkout through coinslot's API and sends the browser to stripesim's pay page."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from tests.browser.conftest import Web
from tests.support.servers import ServerThread, free_port
from tests.support.stack import CATALOGS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

USER = "element_user"


@dataclass
class HostApp:
    """The host's site: one page with the element, and the checkout endpoint the element posts to."""

    web: Web
    port: int
    checkouts: list[dict[str, Any]] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    server: ServerThread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_html(self, request: Request) -> HTMLResponse:
        coinslot = self.web.url
        current = request.query_params.get("current", "")
        api = request.query_params.get("api", coinslot)
        return HTMLResponse(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pricing · QuantiPackAI</title>
<script type="module" src="{coinslot}/static/elements/coinslot-pricing-table.js"></script>
<style>
  body {{ font-family: Georgia, serif; margin: 32px; background: #f7f5f0; }}
  coinslot-pricing-table {{ --coinslot-accent: #0b6e4f; --coinslot-radius: 14px;
                            --coinslot-font: Georgia, serif; }}
</style></head>
<body><h1>Pricing</h1><h2>Plans for every team</h2>
<coinslot-pricing-table api-base="{api}" checkout-url="/checkout" current-plan="{current}">
</coinslot-pricing-table></body></html>""")

    async def checkout(self, request: Request) -> JSONResponse:
        # The host's backend: it knows the signed-in user and holds the API key.
        chosen = await request.json()
        self.checkouts.append(chosen)
        started = self.web.stack.api.post("/v1/checkout/sessions", json={
            "host_user_id": USER, "plan": chosen["plan"], "interval": chosen["interval"],
            "success_url": f"{self.url}/billing", "cancel_url": f"{self.url}/pricing"})
        if started.status_code != 201:
            return JSONResponse(started.json(), status_code=started.status_code)
        self.started.append(started.json())
        return JSONResponse({"url": started.json()["url"]})

    def __enter__(self) -> HostApp:
        app = Starlette(routes=[Route("/pricing", self.page_html), Route("/checkout", self.checkout,
                                                                         methods=["POST"])])
        self.server = ServerThread(app, port=self.port).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def host(make_web: Callable[..., Web]) -> Iterator[HostApp]:
    port = free_port()
    # The host's origin may read /v1/plans across origins and receive the browser back from Checkout.
    web = make_web(catalog="quantipackai", allowed_redirect_origins=f"http://127.0.0.1:{port}")
    with HostApp(web, port) as running:
        yield running


def catalog_prices(plan: str) -> dict[str, str]:
    """The catalog file's prices of a plan, as a person reads them: {"month": "$39.00", "year": "$390.00"}."""
    with (CATALOGS / "quantipackai.toml").open("rb") as file:
        prices = tomllib.load(file)["plans"][plan]["prices"]
    return {{"monthly": "month", "yearly": "year"}[name]: f"${amount}" for name, amount in prices.items()}


def test_the_element_shows_the_catalogs_prices_switches_interval_and_starts_checkout(host: HostApp) -> None:
    page = host.web.new_page(width=1100)
    catalog_reads: list[str] = []
    page.on("request", lambda sent: catalog_reads.append(sent.url) if "/v1/plans" in sent.url else None)
    page.goto(f"{host.url}/pricing?current=free")
    table = page.locator("coinslot-pricing-table")
    starter = table.locator("li[data-plan=starter]")
    professional = table.locator("li[data-plan=professional]")

    # Monthly first: the prices are the catalog's; each plan is a heading; the current one is marked.
    monthly = table.get_by_role("button", name="Monthly")
    yearly = table.get_by_role("button", name=re.compile(r"^Yearly"))
    expect(monthly).to_have_attribute("aria-pressed", "true")
    for plan, card in (("starter", starter), ("professional", professional)):
        expect(card.locator(".amount")).to_have_text(catalog_prices(plan)["month"])
        expect(card.locator(".per")).to_have_text("/month")
    expect(table.get_by_role("heading", name="Professional")).to_be_visible()
    expect(table.locator("li[data-plan=free]")).to_contain_text("Your current plan")
    expect(table.locator("li[data-plan=free]").get_by_role("button")).to_be_disabled()
    expect(professional).to_contain_text("Most popular")
    assert catalog_reads == [f"{host.web.url}/v1/plans"]  # read once, from coinslot, across origins

    # The toggle, by keyboard: Tab from Monthly to Yearly, Enter. Prices and savings follow the API's figures.
    plans = {plan["key"]: plan for plan in host.web.stack.api.get("/v1/plans").json()["plans"]}
    best = max(price["yearly_saving_percent"] or 0 for plan in plans.values() for price in plan["prices"])
    expect(yearly).to_have_text(f"Yearly · save up to {best}%")
    monthly.focus()
    page.keyboard.press("Tab")
    expect(yearly).to_be_focused()
    page.keyboard.press("Enter")
    expect(yearly).to_have_attribute("aria-pressed", "true")
    expect(monthly).to_have_attribute("aria-pressed", "false")
    expect(yearly).to_be_focused()  # focus stays on the toggle across the re-render
    for plan, card in (("starter", starter), ("professional", professional)):
        expect(card.locator(".amount")).to_have_text(catalog_prices(plan)["year"])
        expect(card.locator(".per")).to_have_text("/year")
        year = next(price for price in plans[plan]["prices"] if price["interval"] == "year")
        saved = f"${year['yearly_saving_minor'] // 100}.{year['yearly_saving_minor'] % 100:02d}"
        percent = year["yearly_saving_percent"]
        expect(card.locator(".saving")).to_have_text(f"Save {saved} a year ({percent}%)")

    # The theme from the host's CSS custom properties reaches inside the element.
    accent = table.get_by_role("button", name="Choose Professional").evaluate(
        "button => getComputedStyle(button).backgroundColor")
    assert accent == "rgb(11, 110, 79)"
    host.web.shot(page, "pricing-element-yearly")  # docs/screenshots/pricing-element.png is a copy

    # A click reaches the host's checkout URL with the plan and interval, and the browser goes to pay.
    table.get_by_role("button", name="Choose Professional").click()
    page.wait_for_url(f"{host.web.stack.sim_server.url}/**")
    assert host.checkouts == [{"plan": "professional", "interval": "year"}]
    assert [(started["mode"], started["amount_total_minor"]) for started in host.started] == [
        ("subscription", 99000)]  # the yearly price, $990.00


def test_a_checkout_the_host_refuses_is_said_on_the_page_and_the_button_works_again(host: HostApp) -> None:
    page = host.web.new_page()
    page.route(f"{host.url}/checkout", lambda route: route.fulfill(
        status=409, content_type="application/json",
        body=json.dumps({"error": {"code": "conflict", "message": "you already have this plan"}})))
    page.goto(f"{host.url}/pricing?current=professional")
    table = page.locator("coinslot-pricing-table")
    expect(table.locator("li[data-plan=professional]").get_by_role("button")).to_have_text("Current plan")
    choose = table.get_by_role("button", name="Choose Starter")
    choose.click()
    expect(table.get_by_role("alert")).to_have_text("Checkout could not start: you already have this plan")
    expect(choose).to_be_enabled()
    assert page.url == f"{host.url}/pricing?current=professional"


def test_plans_that_cannot_be_loaded_are_said_so(host: HostApp) -> None:
    page = host.web.new_page()
    page.goto(f"{host.url}/pricing?api=http://127.0.0.1:9")
    expect(page.locator("coinslot-pricing-table").get_by_role("alert")).to_have_text(
        "The plans could not be loaded. Please try again later.")
