"""docs/rest.md, run: examples/rest/walkthrough.sh (plain curl) against a real coinslot + stripesim. Each step
answers as the page says (statuses, the 402 and 422 envelopes, unknown users on the default plan, holds,
replays), and every answer the page shows is part of what this run got."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.support.node import RETURN_ORIGIN, NodeStack
from tests.support.snippets import answers_shown, is_part_of

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "rest" / "walkthrough.sh"


@pytest.fixture
def answers(tmp_path: Path) -> Iterator[dict[str, tuple[int, Any]]]:
    if shutil.which("curl") is None:
        if IN_CI:
            pytest.fail("curl is required")
        pytest.skip("curl is not installed")
    running = NodeStack(tmp_path)
    try:
        env = {**os.environ, "COINSLOT": running.stack.url, "KEY": running.stack.api_key,
               "APP": RETURN_ORIGIN, "STRIPESIM": running.stack.sim_server.url}
        done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        yield parse(done.stdout)
    finally:
        running.stop()


def parse(output: str) -> dict[str, tuple[int, Any]]:
    """`== step` / body / status, per step."""
    steps: dict[str, tuple[int, Any]] = {}
    for chunk in output.split("== ")[1:]:
        name, *lines = chunk.strip().splitlines()
        *body, status = lines
        steps[name.strip()] = (int(status), json.loads("\n".join(body)))
    return steps


def test_the_rest_walkthrough_answers_as_the_page_says(answers: dict[str, tuple[int, Any]]) -> None:
    status = {name: code for name, (code, _) in answers.items()}
    body = {name: answer for name, (_, answer) in answers.items()}
    assert status == {"plans": 200, "state-new-user": 200, "check-free-plan": 200, "checkout": 201,
                      "pay": 200, "fulfil": 200, "check-subscribed": 200, "consume": 200,
                      "consume-retried": 200, "consume-refused": 402, "hold": 200, "capture": 200,
                      "hold-again": 200, "release": 200,
                      "link": 200, "state": 200, "events": 200, "invalid": 422, "unauthorized": 401}
    assert (body["state-new-user"]["known"], body["state-new-user"]["plan"]) == (False, "free")
    assert body["check-subscribed"]["remaining"] == 22
    assert body["consume-retried"] == {**body["consume"], "replayed": True}
    assert body["consume-refused"]["error"]["code"] == "insufficient_credits"
    assert body["unauthorized"]["error"]["code"] == "unauthorized"
    assert body["state"]["credits"]["available"] == 18

    shown = answers_shown(REPO / "docs" / "rest.md")
    assert len(shown) >= 12
    for answer in shown:
        documented = json.loads(answer.text)
        assert is_part_of(documented, body[answer.reference]), (
            f"docs/rest.md shows for {answer.reference}:\n{answer.text}\nbut the run answered:\n"
            f"{json.dumps(body[answer.reference])[:2000]}")
