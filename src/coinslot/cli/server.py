"""`coinslot serve` and `coinslot migrate`."""

from __future__ import annotations

import typer

from coinslot.cli.common import console, shows_errors
from coinslot.config import Settings
from coinslot.migrations import upgrade_to_head

app = typer.Typer()


@app.command("serve")
@shows_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="API processes (PostgreSQL only; SQLite runs one)"),
) -> None:
    """Run the API, the webhook receiver and the pages."""
    import uvicorn

    settings = Settings()
    if settings.is_sqlite and workers > 1:
        console.print("SQLite serves from one process; starting 1 worker.")
        workers = 1
    upgrade_to_head(settings.database_url)
    uvicorn.run("coinslot.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=None, access_log=False)


@app.command("migrate")
@shows_errors
def migrate() -> None:
    """Bring the database schema up to date (safe to run on every deploy)."""
    settings = Settings()
    upgrade_to_head(settings.database_url)
    console.print("database is up to date")
