"""`coinslot reconcile`: repair local state that drifted from Stripe (missed webhooks)."""

from __future__ import annotations

import typer
from rich.table import Table

from coinslot.cli.common import JsonFlag, console, load_container, print_json, shows_errors
from coinslot.webhooks.reconcile import reconcile as run_reconcile

app = typer.Typer()


@app.command("reconcile")
@shows_errors
def reconcile(
    events: bool = typer.Option(True, help="also backfill the events the inbox missed (Stripe keeps 30 d)"),
    as_json: JsonFlag = False,
) -> None:
    """Re-read every customer's subscriptions from Stripe, backfill missed events, print what changed."""
    container = load_container()
    if as_json:
        print_json(run_reconcile(container, include_events=events))
        return
    with console.status("reading Stripe..."):
        report = run_reconcile(container, include_events=events)
    console.print(
        f"{report.customers_checked} customer(s), {report.subscriptions_checked} subscription(s) checked"
    )
    if report.changes:
        table = Table("subscription", "was", "now")
        for change in report.changes:
            table.add_row(change.subscription_id, change.before, change.after)
        console.print(table)
    else:
        console.print("no subscription had drifted")
    if report.events_recovered:
        console.print(
            f"{len(report.events_recovered)} undelivered event(s) stored from Stripe's events list; "
            "`coinslot worker` processes them"
        )
