"""`coinslot events list|show|replay`: the Stripe events coinslot received, and what became of them."""

from __future__ import annotations

import json

import typer
from rich.progress import Progress
from rich.table import Table

from coinslot.cli.common import (
    JsonFlag,
    console,
    counts_json,
    counts_line,
    load_container,
    print_json,
    shows_errors,
)
from coinslot.webhooks import service
from coinslot.webhooks.schemas import attempt_out, event_out
from coinslot.webhooks.worker import replay as replay_event

app = typer.Typer(help="Stripe events: list, inspect, replay failed or dead ones.", no_args_is_help=True)

STATUS_HELP = "received | processing | processed | ignored | failed | dead"


@app.command("list")
@shows_errors
def list_(
    status: str | None = typer.Option(None, help=STATUS_HELP),
    type_: str | None = typer.Option(None, "--type", help="e.g. invoice.paid"),
    limit: int = typer.Option(50, help="how many, newest first"),
    as_json: JsonFlag = False,
) -> None:
    """List stored events, newest first."""
    container = load_container()
    table = Table("id", "stripe event", "type", "status", "attempts", "received", "last error")
    with container.db.unit_of_work(read_only=True) as session:
        events = service.list_events(session, status=status, event_type=type_, limit=limit)
        if as_json:
            print_json({"events": [event_out(event).model_dump(mode="json") for event in events],
                        **counts_json(service.counts(session))})
            return
        for event in events:
            table.add_row(
                str(event.id),
                event.stripe_event_id,
                event.type,
                event.status,
                str(event.attempts),
                f"{event.received_at:%Y-%m-%d %H:%M:%S}",
                (event.last_error or "")[:60],
            )
        summary = counts_line(service.counts(session))
    console.print(table)
    console.print(f"all events: {summary or 'none'}")


@app.command("show")
@shows_errors
def show(
    event: str = typer.Argument(..., help="local id or Stripe id (evt_...)"), as_json: JsonFlag = False
) -> None:
    """One event: its state, its last error and traceback, every attempt, and the payload."""
    container = load_container()
    with container.db.unit_of_work(read_only=True) as session:
        detail = service.get_event(session, event_ref=event)
        row = detail.event
        if as_json:
            print_json({**event_out(row).model_dump(mode="json"), "last_traceback": row.last_traceback,
                        "attempt_history": [attempt_out(a).model_dump(mode="json") for a in detail.attempts],
                        "payload": json.loads(row.payload)})
            return
        console.print(f"[bold]{row.stripe_event_id}[/] {row.type} (local id {row.id})")
        console.print(
            f"status {row.status}, attempts {row.attempts}, next attempt {row.next_attempt_at or '-'}"
        )
        console.print(f"object {row.object_id}, created {row.stripe_created}, received {row.received_at}")
        if row.last_error:
            console.print(f"[red]last error[/]: {row.last_error}", highlight=False)
        if row.last_traceback:
            console.print(row.last_traceback, highlight=False, markup=False)
        attempts = Table("#", "worker", "started", "finished", "outcome", "error")
        for attempt in detail.attempts:
            attempts.add_row(
                str(attempt.number),
                attempt.worker,
                f"{attempt.started_at:%H:%M:%S}",
                f"{attempt.finished_at:%H:%M:%S}",
                attempt.outcome,
                (attempt.error or "")[:80],
            )
        console.print(attempts)
        console.print_json(row.payload)


@app.command("replay")
@shows_errors
def replay(
    event: str | None = typer.Argument(None, help="local id or Stripe id (evt_...)"),
    dead: bool = typer.Option(False, "--dead", help="replay every dead event"),
    as_json: JsonFlag = False,
) -> None:
    """Make events due again now; the worker processes them (effects are idempotent: nothing twice)."""
    if (event is None) == (not dead):
        raise typer.BadParameter("give an event id, or --dead")
    container = load_container()
    if event is not None:
        row = replay_event(container, event_ref=event)
        if as_json:
            print_json({"replayed": [row.stripe_event_id]})
            return
        console.print(f"{row.stripe_event_id} is due again")
        return
    with container.db.unit_of_work(read_only=True) as session:
        ids = service.dead_event_ids(session)
    replayed = []
    with Progress(console=console, disable=as_json) as progress:
        task = progress.add_task("replaying dead events", total=len(ids))
        for event_id in ids:
            replayed.append(replay_event(container, event_ref=event_id).stripe_event_id)
            progress.advance(task)
    if as_json:
        print_json({"replayed": replayed})
        return
    console.print(f"{len(ids)} dead event(s) due again")
