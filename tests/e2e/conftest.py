"""End-to-end fixtures: a whole coinslot + stripesim stack per test, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack.start(database_url)
    yield running
    running.stop()
