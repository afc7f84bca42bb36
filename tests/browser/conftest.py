"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download), and a whole stack
(stripesim + coinslot on SQLite, wired by URL) for each test.

In CI (CI=true) a missing /usr/bin/chromium is a failure; elsewhere the browser
tests are skipped with the reason. Every test saves screenshots of the pages it
visits under artifacts/screenshots/ (gitignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from coinslot.catalog import service as catalog_service
from coinslot.catalog.flows import apply_push, plan_push
from tests.conftest import IN_CI, create_schema
from tests.support.stack import Stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


@pytest.fixture(scope="package")  # ends with tests/browser: Playwright's sync API leaves a loop running
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Web:
    """A running stack plus a browser context per visitor."""

    stack: Stack
    browser: Any
    test_name: str
    contexts: list[Any]
    # Content-Security-Policy refusals Chromium reported on any page of this test: each is a page that
    # breaks under the policy (an inline style, a script from elsewhere). `make_web` fails the test on one.
    csp_violations: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.stack.url

    def link(self, host_user_id: str, *, page: str = "billing", **extra: object) -> str:
        answer = self.stack.api.post("/v1/links", json={"host_user_id": host_user_id, "page": page, **extra})
        assert answer.status_code == 200, answer.text
        url: str = answer.json()["url"]
        return url

    def new_page(self, *, width: int = 1200) -> Any:
        context = self.browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._watch_csp)
        return page

    def _watch_csp(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def open_as(self, host_user_id: str, *, page: str = "billing") -> Any:
        """A fresh browser (its own cookies) that opened the user's signed link."""
        tab = self.new_page()
        tab.goto(self.link(host_user_id, page=page))
        return tab

    def customer_id(self, host_user_id: str) -> int:
        from coinslot.customers import service as customers

        with self.stack.container.db.unit_of_work(read_only=True) as session:
            customer = customers.get_by_host_user_id(session, host_user_id)
            assert customer is not None
            return customer.id

    def now(self) -> dt.datetime:
        return self.stack.container.clock.now()

    def shot(self, page: Any, name: str) -> Path:
        """Save a full-page screenshot as artifacts/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def start_web_stack(tmp_path: Path, *, catalog: str = "patch_hive", **overrides: object) -> Stack:
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'coinslot.db'}"
    create_schema(url)
    stack = Stack.start(url, catalog=catalog, **overrides)
    gateway = stack.container.gateway
    apply_push(gateway, plan_push(gateway, catalog_service.get_catalog(stack.container.settings)))
    return stack


@pytest.fixture
def make_web(browser: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Web]]:
    """`make_web(catalog="quantipackai", webhook_max_attempts=1)`: a stack with that catalog and settings."""
    started: list[Web] = []

    def make(*, catalog: str = "patch_hive", **overrides: object) -> Web:
        stack = start_web_stack(tmp_path / str(len(started)), catalog=catalog, **overrides)
        running = Web(stack, browser, request.node.name, [])
        started.append(running)
        return running

    yield make
    for running in started:
        for context in running.contexts:
            context.close()
        running.stack.stop()
    assert [violation for running in started for violation in running.csp_violations] == []


@pytest.fixture
def web(make_web: Callable[..., Web]) -> Web:
    """The Patch-Hive catalog (FREE / CORE / PRO / STUDIO, credits at $0.20 with a $5 minimum)."""
    return make_web()
