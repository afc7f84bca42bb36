"""examples/nextjs: type-checked as a Next.js app (`tsc --noEmit`), and its server code (lib/, the route
handlers) run by Node against a real coinslot + stripesim: checkout from a server action and from the
pricing element's checkout URL, the success page's fulfil, the guarded consume and its upgrade prompt,
the hooks' routes, and coinslot's real webhooks delivered to the route handler.

`next build` is not run here: it needs Next's compiler binary, an optional package the test command does
not install, and takes minutes on two cores; `tsc` checks the same sources' types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.node import NEXT_EXAMPLE, TS_CLIENT, NodeStack, node_env, require_npm_suite, run_npm

pytestmark = [pytest.mark.node, pytest.mark.slow, pytest.mark.xdist_group("node")]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[NodeStack]:
    require_npm_suite(TS_CLIENT)
    require_npm_suite(NEXT_EXAMPLE)
    run_npm(TS_CLIENT, "build")  # the example imports the client package's dist/
    stack = NodeStack(tmp_path)
    yield stack
    stack.stop()


def test_the_example_type_checks_and_its_server_code_works_against_coinslot(running: NodeStack) -> None:
    output = run_npm(NEXT_EXAMPLE, "test", env=node_env(running))
    assert "# fail 0" in output, output[-3000:]
    assert "# pass 0" not in output, output[-3000:]
