"""Clients no one here wrote (stripe-node, dj-stripe), run against a stripesim server.

Each suite needs something the test command installs (`./dev test` / `./dev setup`):
node_modules from the committed package-lock.json, a second virtualenv for
dj-stripe. In CI (CI=true) a missing piece is a failure; elsewhere the suite is
skipped with the command that installs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stripesim.app import create_app
from stripesim.sim import Sim
from tests.conftest import IN_CI
from tests.support.servers import ServerThread


def require(found: bool, what: str, install: str) -> None:
    """Fail in CI, skip elsewhere, when `what` is not installed."""
    if found:
        return
    message = f"{what} is not installed; `{install}` installs it"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def stripesim_url() -> Iterator[str]:
    """A fresh stripesim of its own on a free port (the clients deliver and verify webhooks)."""
    engine = Sim(retry_base_delay_s=0.05, max_delivery_attempts=4, delivery_timeout_s=5.0)
    server = ServerThread(create_app(engine))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
