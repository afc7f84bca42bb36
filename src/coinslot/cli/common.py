"""What every CLI command shares: settings, the container, and errors shown as messages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from coinslot.config import Settings
from coinslot.container import Container, make_clock
from coinslot.db import Database
from coinslot.errors import CoinslotError
from coinslot.observability import configure_logging, configure_sentry
from coinslot.queue.service import StatusCount

__all__ = [
    "JsonFlag", "configure_process", "console", "counts_json", "counts_line", "err_console", "load_container",
    "print_json", "progress_printer", "say", "shows_errors",
]

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


# `--json` on every command that prints data: one JSON document on stdout, for scripts (`| jq`).
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document instead of tables and text")]


def say(text: str) -> None:
    """A line of a command's report, as written (names and ids may hold brackets: no markup)."""
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def progress_printer(*, dry_run: bool) -> Callable[[int, int], None]:
    """A long command's `on_progress(done, total)`: "12/200 subscriptions done" on stderr, so --json's
    stdout stays one document."""
    verb = "checked" if dry_run else "done"

    def progress(done: int, total: int) -> None:
        err_console.print(f"{done}/{total} subscriptions {verb}", highlight=False)

    return progress


def counts_line(counts: Mapping[str, StatusCount]) -> str:
    """A queue's rows per status on one line, by name: "dead 1, processed 10,000+" (capped counts +)."""
    return ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))


def counts_json(counts: Mapping[str, StatusCount]) -> dict[str, Any]:
    """A queue's rows per status for --json: numbers under `counts`, and under `counts_at_least` the
    statuses whose number is a floor (finished rows, counted up to a cap), so a script never reads a
    cap as a total."""
    return {"counts": {status: count.rows for status, count in sorted(counts.items())},
            "counts_at_least": sorted(status for status, count in counts.items() if count.at_least)}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def print_json(data: Any) -> None:
    """`data` as JSON on stdout (datetimes in ISO 8601, dataclasses as objects)."""
    sys.stdout.write(json.dumps(data, default=_plain, indent=2, ensure_ascii=False) + "\n")


def shows_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a CoinslotError into `error: <message>` on stderr and exit code 2 (never a traceback); with
    `--json`, also the API's error envelope on stdout, so a script reads one shape either way."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CoinslotError as exc:
            # Escaped: a field shown as "[plan]" or a message naming "[plans.<key>]" is text, not markup.
            where = escape(f" [{exc.field}]") if exc.field else ""
            err_console.print(f"[bold red]error[/]{where}: {escape(exc.message)}", highlight=False,
                              markup=True)
            if kwargs.get("as_json"):
                print_json({"error": exc.to_dict()})
            sys.exit(2)

    return wrapper
