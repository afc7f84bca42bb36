"""Servers for the benchmarks, each a uvicorn child process on 127.0.0.1.

coinslot and the floor app are served the same way (the same number of uvicorn
worker processes, uvloop + httptools when installed, no access log), so the ratio
between them is the cost of coinslot's own code. stripesim runs through its own CLI.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["ServerProcess", "app_process", "coinslot_env", "free_port", "serve_app", "serve_stripesim"]

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A child server; `with serve_app(...) as server:` stops it however the block ends."""

    def __init__(self, command: list[str], *, port: int, env: dict[str, str], health_path: str,
                 log_path: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._command = command
        self._env = env
        self._health_path = health_path
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> ServerProcess:
        return self.launch().wait_ready(timeout_s)

    def launch(self) -> ServerProcess:
        """Start the process without waiting: servers launched together boot side by side."""
        log = self._log_path.open("wb")
        self._process = subprocess.Popen(self._command, env=self._env, cwd=REPO, stdout=log,
                                         stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout_s: float = 30.0) -> ServerProcess:
        assert self._process is not None, "launch() first"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited: {self._log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + self._health_path, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server on port {self.port} did not answer {self._health_path}")

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _env(extra: dict[str, str]) -> dict[str, str]:
    # The child gets a clean COINSLOT_* view: only what the benchmark sets, never the caller's .env.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COINSLOT_")}
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"


def coinslot_env(database_url: str) -> dict[str, str]:
    """COINSLOT_* of the benchmark's coinslot server."""
    return {
        "COINSLOT_DATABASE_URL": database_url,
        "COINSLOT_CATALOG_PATH": str(CATALOG),
        "COINSLOT_STRIPE_SECRET_KEY": "sk_test_coinslot_bench",
        "COINSLOT_STRIPE_WEBHOOK_SECRETS": "whsec_coinslot_bench",
        "COINSLOT_LOG_LEVEL": "WARNING",
        "COINSLOT_LOG_JSON": "false",
        # The load comes from one address: the per-address limits of the public surfaces would measure
        # themselves (429s), not coinslot.
        "COINSLOT_RATE_LIMIT_WEBHOOKS_PER_MIN": "0",
        "COINSLOT_RATE_LIMIT_PUBLIC_PER_MIN": "0",
        "COINSLOT_RATE_LIMIT_LINKS_PER_MIN": "0",
    }


def serve_app(factory: str, *, log_dir: Path, env: dict[str, str] | None = None) -> ServerProcess:
    """`factory` is e.g. "bench.apps:coinslot_app"; started and ready when this returns."""
    return app_process(factory, log_dir=log_dir, env=env).start()


def app_process(factory: str, *, log_dir: Path, env: dict[str, str] | None = None,
                workers: int = 1) -> ServerProcess:
    """The server of `factory` in `workers` processes, not started yet (`launch()` + `wait_ready()`, or
    `start()`)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log", "--backlog", "1024",
               "--workers", str(workers)]
    name = factory.rsplit(":", 1)[-1]
    server = ServerProcess(command, port=port, env=_env(env or {}), health_path="/healthz",
                           log_path=log_dir / f"{name}-{port}.log")
    return server


def serve_stripesim(*, log_dir: Path, webhook_url: str | None = None,
                    webhook_secret: str | None = None) -> ServerProcess:
    port = free_port()
    command = [sys.executable, "-m", "stripesim", "serve", "--port", str(port), "--log-level", "warning",
               "--retry-base-delay-s", "0.05"]
    if webhook_url:
        command += ["--webhook-url", webhook_url]
    if webhook_secret:
        command += ["--webhook-secret", webhook_secret]
    server = ServerProcess(command, port=port, env=_env({}), health_path="/_sim/health",
                           log_path=log_dir / f"stripesim-{port}.log")
    return server.start()
