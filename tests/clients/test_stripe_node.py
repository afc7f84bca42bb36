"""Stripe's own Node SDK (npm `stripe`, pinned in clients/stripe-node/package-lock.json) runs
what a Next.js backend does against stripesim, with Node's test runner.

The JavaScript tests are in clients/stripe-node/test/; this test starts stripesim, runs
`node --test` with its URL in STRIPESIM_URL, and fails on any failing or missing test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.support.node import require_npm_suite

SUITE = Path(__file__).resolve().parents[2] / "clients" / "stripe-node"
# The suite has this many tests; fewer means some file was not picked up.
MIN_TESTS = 46


def test_stripe_node_runs_a_nextjs_backends_calls_against_stripesim(stripesim_url: str) -> None:
    require_npm_suite(SUITE)  # Node 20+ and `npm ci` done by ./dev setup; a failure in CI
    node = shutil.which("node")
    assert node is not None
    started = time.monotonic()
    result = subprocess.run(
        [node, "--test", "--test-concurrency=2", "test/"], cwd=SUITE, capture_output=True,
        text=True, timeout=300, env={**os.environ, "STRIPESIM_URL": stripesim_url}, check=False)
    elapsed_s = time.monotonic() - started
    output = result.stdout + result.stderr
    counts = {name: int(value) for name, value in re.findall(r"^# (tests|pass|fail) (\d+)$",
                                                             output, re.MULTILINE)}
    failures = "\n".join(line for line in output.splitlines() if line.startswith("not ok"))
    assert result.returncode == 0, f"{failures}\n\n{output[-6000:]}"
    assert counts.get("fail") == 0
    assert counts.get("tests", 0) >= MIN_TESTS, counts
    assert counts["pass"] == counts["tests"], counts
    print(f"\nstripe-node: {counts['tests']} tests, {counts['pass']} passed in {elapsed_s:.1f} s")
