"""The JavaScript suites (clients/typescript, examples/nextjs), run by pytest against a real coinslot.

`./dev test` installs each suite's node_modules with `npm ci` from its committed package-lock.json before
pytest starts; a test here starts coinslot + stripesim (`node_stack`), gives Node the URLs and the API key
in environment variables and runs the suite's `npm test`, failing with Node's own output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coinslot.hostwebhooks import generate_secret
from tests.conftest import IN_CI, create_schema
from tests.e2e.billing_user import push_catalog
from tests.support.servers import free_port
from tests.support.stack import Stack

__all__ = ["NEXT_EXAMPLE", "RETURN_ORIGIN", "TS_CLIENT", "NodeStack", "node_env", "require_npm_suite",
           "run_npm"]

REPO = Path(__file__).resolve().parents[2]
TS_CLIENT = REPO / "clients" / "typescript"
NEXT_EXAMPLE = REPO / "examples" / "nextjs"
# The host app's origin the suites send success and cancel URLs on (an allowed redirect origin).
RETURN_ORIGIN = "http://127.0.0.1:5000"


MIN_NODE_MAJOR = 20


def _node_major() -> int:
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout
    return int(version.strip().lstrip("v").split(".")[0] or 0)


def require_npm_suite(directory: Path) -> None:
    """Node, npm and the suite's installed node_modules, or a skip naming the fix (a failure in CI)."""
    problem = None
    if shutil.which("node") is None or shutil.which("npm") is None:
        problem = "Node.js and npm are not installed (apt-get install nodejs npm)"
    elif _node_major() < MIN_NODE_MAJOR:
        problem = f"Node.js {MIN_NODE_MAJOR} or newer is needed (Next.js 16); this is {_node_major()}"
    elif not (directory / "node_modules" / ".package-lock.json").exists():
        problem = f"{directory.relative_to(REPO)}/node_modules is not installed: run ./dev setup (npm ci)"
    if problem is None:
        return
    if IN_CI:
        pytest.fail(problem)
    pytest.skip(problem)


class NodeStack:
    """coinslot + stripesim on SQLite with a pushed catalog, its webhook worker and outbound sender running
    in process (as `coinslot serve` on SQLite does), delivering to a port the Node suite listens on."""

    def __init__(self, tmp_path: Path, *, catalog: str = "patch_hive") -> None:
        url = f"sqlite:///{tmp_path / 'coinslot.db'}"
        create_schema(url)
        self.webhook_port = free_port()
        self.webhook_secret = generate_secret()
        self.stack = Stack.start(
            url, catalog=catalog, run_worker_in_process=True, worker_poll_interval_s=0.1,
            host_webhook_url=f"http://127.0.0.1:{self.webhook_port}/coinslot-events",
            host_webhook_secret=self.webhook_secret, host_webhook_retry_base_s=0.2,
            host_webhook_retry_cap_s=1.0, host_webhook_timeout_s=5.0,
        )
        push_catalog(self.stack, catalog)

    def stop(self) -> None:
        self.stack.stop()


def node_env(running: NodeStack) -> dict[str, str]:
    """What the suites read: where coinslot and stripesim answer, the key, the webhook port and secret."""
    return {
        **os.environ,
        "COINSLOT_URL": running.stack.url,
        "COINSLOT_API_KEY": running.stack.api_key,
        "STRIPESIM_URL": running.stack.sim_server.url,
        "COINSLOT_RETURN_ORIGIN": RETURN_ORIGIN,
        "APP_URL": RETURN_ORIGIN,  # the Next.js example's own origin
        "COINSLOT_WEBHOOK_PORT": str(running.webhook_port),
        "COINSLOT_WEBHOOK_SECRET": running.webhook_secret,
        # The generator's check runs `python -m coinslot.cli openapi` with this interpreter.
        "COINSLOT_PYTHON": sys.executable,
        "NO_COLOR": "1",
    }


def run_npm(directory: Path, script: str, *, env: dict[str, str] | None = None,
            timeout_s: float = 240) -> str:
    """`npm run <script>` in `directory`; its output, or a test failure showing it."""
    done = subprocess.run(
        ["npm", "run", "--silent", script], cwd=directory, env=env or {**os.environ, "NO_COLOR": "1"},
        capture_output=True, text=True, timeout=timeout_s, check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        where = directory.relative_to(REPO)
        pytest.fail(f"`npm run {script}` in {where} failed ({done.returncode}):\n{output[-12000:]}",
                    pytrace=False)
    return output
