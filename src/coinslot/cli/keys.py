"""`coinslot keys create|list|revoke`: API keys for the host app's backend."""

from __future__ import annotations

import typer
from rich.table import Table

from coinslot.apikeys import service
from coinslot.cli.common import console, load_container, shows_errors

app = typer.Typer(
    help="API keys the host app's backend sends as 'Authorization: Bearer cs_...'.", no_args_is_help=True
)


@app.command("create")
@shows_errors
def create(name: str = typer.Argument(..., help="a label, e.g. 'web-backend'")) -> None:
    """Create a key and print it once (only its hash is stored)."""
    container = load_container()
    with container.db.unit_of_work() as session:
        created = service.create_key(session, name=name, now=container.clock.now())
    console.print(f"key {created.id} ({created.name}): [bold]{created.secret}[/]")
    console.print("Store it now: it cannot be shown again.")


@app.command("list")
@shows_errors
def list_() -> None:
    """List keys (prefix, created, revoked)."""
    container = load_container()
    table = Table("id", "name", "prefix", "created", "revoked")
    with container.db.unit_of_work(read_only=True) as session:
        for key in service.list_keys(session):
            table.add_row(
                str(key.id),
                key.name,
                key.prefix + "…",
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    console.print(table)


@app.command("revoke")
@shows_errors
def revoke(key_id: int) -> None:
    """Revoke a key; calls with it fail within 30 seconds (the verification cache)."""
    container = load_container()
    with container.db.unit_of_work() as session:
        service.revoke_key(session, key_id=key_id, now=container.clock.now())
    console.print(f"key {key_id} revoked")
