"""`coinslot keys create|list|revoke`: API keys for the host app's backend."""

from __future__ import annotations

import typer
from rich.table import Table

from coinslot.apikeys import service
from coinslot.apikeys.scopes import SCOPES
from coinslot.cli.common import JsonFlag, console, load_container, print_json, shows_errors

app = typer.Typer(
    help="API keys the host app's backend sends as 'Authorization: Bearer cs_...'.", no_args_is_help=True
)

_SCOPE_HELP = "what the key may do (repeat, or comma-separate): " + "; ".join(
    f"{name} = {what}" for name, what in SCOPES.items())


@app.command("create")
@shows_errors
def create(
    name: str = typer.Argument(..., help="a label, e.g. 'web-backend'"),
    scope: list[str] = typer.Option([], "--scope", help=_SCOPE_HELP),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days",
                                               help="refused after this many days (default: never)"),
    as_json: JsonFlag = False,
) -> None:
    """Create a key with its scopes and print it once (only its hash is stored)."""
    container = load_container()
    with container.db.unit_of_work() as session:
        created = service.create_key(session, name=name, scopes=scope, now=container.clock.now(),
                                     expires_in_days=expires_in_days)
    if as_json:
        print_json({"id": created.id, "name": created.name, "secret": created.secret,
                    "scopes": list(created.scopes), "expires_at": created.expires_at})
        return
    expiry = f", expires {created.expires_at:%Y-%m-%d %H:%M} UTC" if created.expires_at else ""
    console.print(f"key {created.id} ({created.name}; {', '.join(created.scopes)}{expiry}): "
                  f"[bold]{created.secret}[/]", highlight=False)
    console.print("Store it now: it cannot be shown again.")


def _scopes_shown(stored: str | None) -> str:
    return "all (legacy: made before scopes; replace it)" if stored is None else ", ".join(stored.split())


@app.command("list")
@shows_errors
def list_(as_json: JsonFlag = False) -> None:
    """List keys: prefix, scopes, created, expires, last used, revoked. Keys made before scopes existed
    keep every scope and show as legacy."""
    container = load_container()
    table = Table("id", "name", "prefix", "scopes", "created", "expires", "last used", "revoked")
    with container.db.unit_of_work(read_only=True) as session:
        keys = service.list_keys(session)
        if as_json:
            print_json([{"id": key.id, "name": key.name, "prefix": key.prefix,
                         "scopes": key.scopes.split() if key.scopes is not None else None,
                         "legacy": key.scopes is None, "created_at": key.created_at,
                         "expires_at": key.expires_at, "last_used_at": key.last_used_at,
                         "revoked_at": key.revoked_at} for key in keys])
            return
        for key in keys:
            table.add_row(
                str(key.id),
                key.name,
                key.prefix + "…",
                _scopes_shown(key.scopes),
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "never",
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    console.print(table)


@app.command("revoke")
@shows_errors
def revoke(key_id: int, as_json: JsonFlag = False) -> None:
    """Revoke a key: every process refuses it within COINSLOT_API_KEY_CACHE_S (at most a second)."""
    container = load_container()
    with container.db.unit_of_work() as session:
        revoked = service.revoke_key(session, key_id=key_id, now=container.clock.now())
        revoked_at = revoked.revoked_at
    if as_json:
        print_json({"id": key_id, "revoked_at": revoked_at})
        return
    console.print(f"key {key_id} revoked")
