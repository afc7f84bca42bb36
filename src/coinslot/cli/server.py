"""`coinslot serve` and `coinslot migrate`."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile

import typer

from coinslot.cli.common import JsonFlag, configure_process, console, err_console, print_json, shows_errors
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.migrations import schema_status, upgrade_to_head
from coinslot.observability import MULTIPROC_ENV

app = typer.Typer()


@app.command("serve")
@shows_errors
def serve(
    host: str = typer.Option("127.0.0.1", envvar="COINSLOT_HOST", help="address to listen on"),
    port: int = typer.Option(8000, envvar="COINSLOT_PORT", help="port to listen on"),
    workers: int | None = typer.Option(
        None, envvar="COINSLOT_WEB_WORKERS", min=1,
        help="API processes; default: one per CPU this process may use on PostgreSQL, 1 on SQLite"),
    migrate: bool = typer.Option(True, help="migrate the schema first (under the migration lock); "
                                 "--no-migrate only checks it is current, as after a one-shot migrate"),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1", envvar="FORWARDED_ALLOW_IPS",
        help="proxies trusted for X-Forwarded-For/-Proto (comma-separated, '*' = any)"),
) -> None:
    """Run the API, the webhook receiver and the pages."""
    import uvicorn

    settings = Settings()
    workers = web_workers(workers, is_sqlite=settings.is_sqlite, cpus=usable_cpus())
    if settings.is_sqlite and workers > 1:
        console.print(f"SQLite with {workers} processes: reads run side by side, writes from several "
                      "processes wait on SQLite's lock in turn (PostgreSQL for write-heavy hosts).")
    if workers > 1 and settings.session_secret is None and settings.stripe_mode != "live":
        # Test mode fills a missing page secret per process (config.checked_secrets): a link signed by
        # one process would fail in the next. One random secret for this run, inherited by every process.
        os.environ["COINSLOT_SESSION_SECRET"] = secrets.token_urlsafe(32)
        console.print("COINSLOT_SESSION_SECRET is not set: the processes share a random one for this run.")
    database = Database.for_settings(settings)
    try:
        if migrate:
            upgrade_to_head(database, on_wait=lambda message: err_console.print(message))
        else:
            status = schema_status(database)
            if status.state in ("behind", "empty"):
                err_console.print(f"[bold red]error[/]: {status.describe()}")
                raise typer.Exit(1)
            if status.state == "ahead":  # a newer release migrated: its revisions only add, so serve
                err_console.print(f"warning: {status.describe()}")
    finally:
        database.dispose()
    multiproc_dir = _multiprocess_metrics_dir() if workers > 1 else None
    try:
        uvicorn.run("coinslot.app:serve_app", factory=True, host=host, port=port, workers=workers,
                    log_config=None, access_log=False, proxy_headers=True,
                    forwarded_allow_ips=forwarded_allow_ips, timeout_graceful_shutdown=20)
    finally:
        if multiproc_dir is not None:
            shutil.rmtree(multiproc_dir, ignore_errors=True)


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's cpuset or `taskset`, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def web_workers(requested: int | None, *, is_sqlite: bool, cpus: int) -> int:
    """How many API processes `serve` starts: as asked, else one per CPU on PostgreSQL (the
    production setting: one process's CPU, not the database, sets the pace of checks and webhook
    receipts, docs/benchmarks.md) and one on SQLite (its writers queue on one file lock; in-process
    they take fair turns, across processes they poll)."""
    if requested is not None:
        return requested
    return 1 if is_sqlite else max(1, cpus)


def _multiprocess_metrics_dir() -> str | None:
    """Prometheus multiprocess mode for `--workers N`: every API process writes its figures under one
    directory and /metrics, answered by any of them, adds them up. An operator's own directory is
    used as given; else a fresh one (removed at exit). Set before uvicorn starts the processes."""
    if os.environ.get(MULTIPROC_ENV):
        return None
    directory = tempfile.mkdtemp(prefix="coinslot-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    return directory


@app.command("migrate")
@shows_errors
def migrate(
    check: bool = typer.Option(False, "--check",
                               help="only say whether the schema is current; exit 1 if not"),
    as_json: JsonFlag = False,
) -> None:
    """Bring the database schema up to date (safe to run on every deploy, from several places at once)."""
    settings = Settings()
    configure_process(settings)
    database = Database.for_settings(settings)
    try:
        if check:
            status = schema_status(database)
            if as_json:
                print_json({"state": status.state, "current": status.current, "head": status.head,
                            "message": status.describe()})
            else:
                (console if status.state == "current" else err_console).print(status.describe())
            if status.state != "current":
                raise typer.Exit(1)
            return
        upgrade_to_head(database, on_wait=lambda message: err_console.print(message))
        status = schema_status(database)
        if as_json:
            print_json({"state": status.state, "current": status.current, "head": status.head})
        else:
            console.print(status.describe())
    finally:
        database.dispose()
