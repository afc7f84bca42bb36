"""What the figures were measured on: cores, memory, Python, SQLite and PostgreSQL versions."""

from __future__ import annotations

import os
import platform
import socket
import sqlite3
from typing import Any

__all__ = ["describe_machine"]


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def describe_machine(postgres_version: str | None) -> dict[str, Any]:
    memory = _memory_bytes()
    return {
        "host": socket.gethostname(),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": memory // (1024 ** 3) if memory else None,
        "memory_bytes": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
    }
