"""`coinslot ...`: one Typer app, a module per command group."""

from __future__ import annotations

import typer

from coinslot.cli import (
    catalog,
    credits,
    demo,
    events,
    imports,
    keys,
    openapi,
    outbound,
    overage,
    plans,
    reconcile,
    server,
    subscriptions,
    worker,
)

app = typer.Typer(name="coinslot", help="Billing for Stripe subscriptions, one-time payments and credits.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.registered_commands.extend(server.app.registered_commands)
app.registered_commands.extend(worker.app.registered_commands)
app.registered_commands.extend(reconcile.app.registered_commands)
app.registered_commands.extend(demo.app.registered_commands)
app.registered_commands.extend(openapi.app.registered_commands)
app.registered_commands.extend(imports.app.registered_commands)
app.add_typer(keys.app, name="keys")
app.add_typer(catalog.app, name="catalog")
app.add_typer(credits.app, name="credits")
app.add_typer(events.app, name="events")
app.add_typer(outbound.app, name="outbound")
app.add_typer(subscriptions.app, name="subscription")
app.add_typer(plans.app, name="plans")
app.add_typer(overage.app, name="overage")


def main() -> None:
    app()
