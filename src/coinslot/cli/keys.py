"""`coinslot keys create|list|revoke`: API keys for the host app's backend."""

from __future__ import annotations

import typer
from rich.table import Table

from coinslot.apikeys import service
from coinslot.cli.common import JsonFlag, console, load_container, print_json, shows_errors

app = typer.Typer(
    help="API keys the host app's backend sends as 'Authorization: Bearer cs_...'.", no_args_is_help=True
)


@app.command("create")
@shows_errors
def create(
    name: str = typer.Argument(..., help="a label, e.g. 'web-backend'"), as_json: JsonFlag = False
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    container = load_container()
    with container.db.unit_of_work() as session:
        created = service.create_key(session, name=name, now=container.clock.now())
    if as_json:
        print_json({"id": created.id, "name": created.name, "secret": created.secret})
        return
    console.print(f"key {created.id} ({created.name}): [bold]{created.secret}[/]")
    console.print("Store it now: it cannot be shown again.")


@app.command("list")
@shows_errors
def list_(as_json: JsonFlag = False) -> None:
    """List keys (prefix, created, revoked)."""
    container = load_container()
    table = Table("id", "name", "prefix", "created", "revoked")
    with container.db.unit_of_work(read_only=True) as session:
        keys = service.list_keys(session)
        if as_json:
            print_json([{"id": key.id, "name": key.name, "prefix": key.prefix, "created_at": key.created_at,
                         "revoked_at": key.revoked_at} for key in keys])
            return
        for key in keys:
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
def revoke(key_id: int, as_json: JsonFlag = False) -> None:
    """Revoke a key; calls with it fail within 30 seconds (the verification cache)."""
    container = load_container()
    with container.db.unit_of_work() as session:
        revoked = service.revoke_key(session, key_id=key_id, now=container.clock.now())
        revoked_at = revoked.revoked_at
    if as_json:
        print_json({"id": key_id, "revoked_at": revoked_at})
        return
    console.print(f"key {key_id} revoked")
