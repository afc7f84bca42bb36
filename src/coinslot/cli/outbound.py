"""`coinslot outbound list|replay|send`: the events for the host app, and what became of them."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer
from rich.table import Table

from coinslot.cli.common import (
    JsonFlag,
    configure_process,
    console,
    counts_json,
    counts_line,
    load_container,
    print_json,
    shows_errors,
)
from coinslot.config import Settings
from coinslot.metrics import serve_metrics
from coinslot.outbound import service
from coinslot.outbound.sender import deliver_due, run_sender

app = typer.Typer(help="Webhooks to the host app: list, replay dead ones, send.", no_args_is_help=True)

STATUS_HELP = "pending | sending | failed | delivered | dead"


@app.command("list")
@shows_errors
def list_(
    status: str | None = typer.Option(None, help=STATUS_HELP),
    type_: str | None = typer.Option(None, "--type", help="e.g. credits.low"),
    limit: int = typer.Option(50, help="how many, newest first"),
    as_json: JsonFlag = False,
) -> None:
    """List outbox messages, newest first, with their delivery state."""
    container = load_container()
    table = Table("id", "webhook id", "type", "status", "attempts", "created", "next attempt", "last error")
    with container.db.unit_of_work(read_only=True) as session:
        rows = service.list_messages(session, status=status, event_type=type_, limit=limit)
        if as_json:
            print_json({"messages": [{
                "id": row.id, "webhook_id": row.webhook_id, "type": row.event_type, "status": row.status,
                "attempts": row.attempts, "created_at": row.created_at,
                "next_attempt_at": row.next_attempt_at, "last_error": row.last_error,
            } for row in rows], **counts_json(service.counts(session))})
            return
        for row in rows:
            table.add_row(
                str(row.id),
                row.webhook_id,
                row.event_type,
                row.status,
                str(row.attempts),
                f"{row.created_at:%Y-%m-%d %H:%M:%S}",
                f"{row.next_attempt_at:%Y-%m-%d %H:%M:%S}" if row.next_attempt_at else "-",
                (row.last_error or "")[:60],
            )
        summary = counts_line(service.counts(session))
    console.print(table)
    console.print(f"all messages: {summary or 'none'}")
    if not container.settings.host_webhook_url:
        console.print("COINSLOT_HOST_WEBHOOK_URL is not set: messages wait as pending until it is.")


@app.command("replay")
@shows_errors
def replay(
    message: str | None = typer.Argument(None, help="local id or webhook id (msg_...)"),
    dead: bool = typer.Option(False, "--dead", help="replay every dead message"),
    as_json: JsonFlag = False,
) -> None:
    """Make messages due again now (same webhook id, fresh attempts); a running sender delivers them."""
    if (message is None) == (not dead):
        raise typer.BadParameter("give a message id, or --dead")
    container = load_container()
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        if message is not None:
            webhook_id = service.replay(session, message_ref=message, now=now).webhook_id
        else:
            ids = service.dead_message_ids(session)
            for message_id in ids:
                service.replay(session, message_ref=message_id, now=now)
    # Printed once committed, so the message never claims a replay that rolled back.
    if as_json:
        print_json({"replayed": [webhook_id] if message is not None else len(ids)})
        return
    if message is not None:
        console.print(f"{webhook_id} is due again")
    else:
        console.print(f"{len(ids)} dead message(s) due again")


@app.command("send")
@shows_errors
def send(once: bool = typer.Option(False, help="deliver what is due now, then exit")) -> None:
    """Run a sender (API processes run one already when a host URL is set); stops on Ctrl-C / SIGTERM."""
    settings = Settings()
    configure_process(settings)
    container = load_container(settings)
    if not container.settings.host_webhook_url:
        console.print("COINSLOT_HOST_WEBHOOK_URL is not set: nothing to send to.")
        raise typer.Exit(1)
    if once:
        total = 0
        while (claimed := deliver_due(container)) > 0:
            total += claimed
        console.print(f"{total} message(s) tried; see `coinslot outbound list`")
        return
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    console.print("sending to the host; Ctrl-C to stop")
    stop_metrics = (serve_metrics(container.db, container.clock, port=settings.metrics_port)
                    if settings.metrics_port is not None else None)
    try:
        run_sender(container, stop=stop)
    finally:
        if stop_metrics is not None:
            stop_metrics()
