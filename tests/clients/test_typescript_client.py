"""The TypeScript client (clients/typescript) against a real coinslot + stripesim: its Node suite (billing
story, 402s, holds, credits, state, retries, webhook verification) and the check that its generated
types are those of the current OpenAPI document."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.node import TS_CLIENT, NodeStack, node_env, require_npm_suite, run_npm

pytestmark = [pytest.mark.node, pytest.mark.slow, pytest.mark.xdist_group("node")]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[NodeStack]:
    require_npm_suite(TS_CLIENT)
    stack = NodeStack(tmp_path)
    yield stack
    stack.stop()


def test_the_node_suite_passes_against_a_running_coinslot(running: NodeStack) -> None:
    output = run_npm(TS_CLIENT, "test", env=node_env(running))
    assert "# fail 0" in output, output[-3000:]
    assert "# pass 0" not in output, output[-3000:]


def test_the_checked_in_types_are_generated_from_the_current_document() -> None:
    require_npm_suite(TS_CLIENT)
    output = run_npm(TS_CLIENT, "check-generated", env={**os.environ, "COINSLOT_PYTHON": sys.executable})
    assert "match coinslot's OpenAPI document" in output
