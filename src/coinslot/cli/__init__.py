"""`coinslot ...`: one Typer app, a module per command group."""

from __future__ import annotations

import typer

from coinslot.cli import keys, server

app = typer.Typer(name="coinslot", help="Billing for Stripe subscriptions, one-time payments and credits.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.registered_commands.extend(server.app.registered_commands)
app.add_typer(keys.app, name="keys")


def main() -> None:
    app()
