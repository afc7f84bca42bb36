"""What every CLI command shares: settings, the container, and errors shown as messages."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from rich.console import Console

from coinslot.config import Settings
from coinslot.db import Database
from coinslot.deps import Container, make_clock
from coinslot.errors import CoinslotError
from coinslot.observability import configure_logging, configure_sentry

__all__ = ["configure_process", "console", "err_console", "load_container", "shows_errors"]

# Piped or captured output (scripts, logs, CI) gets wide lines: an 80-column default would
# truncate event ids and statuses in tables that operators grep.
_WIDTH = None if sys.stdout.isatty() else 200
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

P = ParamSpec("P")
R = TypeVar("R")


def configure_process(settings: Settings) -> None:
    """What a long-running command (worker, sender, migrate) sets up first, as `serve` does: JSON logs
    to stderr at the configured level, and Sentry when a DSN is set."""
    configure_logging(settings.log_level, json_lines=settings.log_json)
    configure_sentry(settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else None)


def load_container(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    return Container(settings=settings, db=Database.for_settings(settings), clock=make_clock(settings))


def shows_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a CoinslotError into `error: <message>` on stderr and exit code 2 (never a traceback)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CoinslotError as exc:
            where = f" [{exc.field}]" if exc.field else ""
            err_console.print(f"[bold red]error[/]{where}: {exc.message}", highlight=False, markup=True)
            sys.exit(2)

    return wrapper
