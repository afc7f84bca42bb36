"""coinslot commands as real processes, the way compose.yaml runs them (`coinslot ...` is the console
script of `coinslot.cli:main`; here `python -m coinslot.cli`, with this checkout's sources)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]


def argv(command: Sequence[str]) -> list[str]:
    """A compose command (`coinslot ...` / `stripesim ...`) as this interpreter runs it."""
    program, *args = command
    module = {"coinslot": "coinslot.cli", "stripesim": "stripesim.cli"}[program]
    return [sys.executable, "-m", module, *args]


def clean_environment(values: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any coinslot setting of the developer's, plus `values`."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("COINSLOT_", "STRIPESIM_")) and k != "PROMETHEUS_MULTIPROC_DIR"}
    base["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO), base.get("PYTHONPATH", "")])
    return {**base, **values}


@dataclass
class Process:
    """One running command, its output in a file (read by the test, shown when it fails)."""

    name: str
    command: list[str]
    environment: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] = field(init=False)

    def start(self) -> Process:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.popen = subprocess.Popen(argv(self.command), env=self.environment, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=REPO)
        log.close()
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    continue
        return lines

    def signal(self, signum: signal.Signals) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def wait(self, timeout_s: float) -> int:
        return self.popen.wait(timeout=timeout_s)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def wait_until(what: str, check: Callable[[], bool], *, timeout_s: float = 60.0,
               processes: Sequence[Process] = ()) -> float:
    """Poll `check` until it holds; the seconds it took. Fails with the processes' output if not."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except (httpx.HTTPError, OSError, KeyError, ValueError):
            pass
        for process in processes:
            if process.popen.poll() is not None and process.popen.returncode not in (0, -9):
                raise AssertionError(f"{process.name} exited with {process.popen.returncode}:\n"
                                     f"{process.output()[-4000:]}")
        if time.monotonic() - started > timeout_s:
            tails = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in processes)
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.1)
