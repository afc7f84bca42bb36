"""`coinslot credits grant|adjust|show|history|verify`: the credits ledger for operators."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import uuid

import typer
from rich.table import Table

from coinslot.cli.common import JsonFlag, console, err_console, load_container, print_json, shows_errors
from coinslot.customers import service as customers
from coinslot.ledger import service as ledger
from coinslot.overage import service as overage
from coinslot.overview import service as overview

app = typer.Typer(help="Credits: grant, adjust, show balances and usage, verify the ledger.",
                  no_args_is_help=True)


def _entry_id(given: str | None) -> str:
    # Operators may pass their own id to make a command safe to re-run; otherwise each run is new.
    return f"cli:{given or uuid.uuid4().hex}"


@app.command("grant")
@shows_errors
def grant(
    user: str = typer.Argument(..., help="the host app's user id"),
    credits: int = typer.Argument(..., min=1),
    reason: str = typer.Option(..., "--reason", help="why, kept on the entry"),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", min=1, help="default: never"),
    entry_id: str | None = typer.Option(None, "--id", help="idempotency key: re-running with it grants once"),
    as_json: JsonFlag = False,
) -> None:
    """Give a user credits (a new lot), e.g. a goodwill gesture."""
    container = load_container()
    now = container.clock.now()
    expires_at = now + dt.timedelta(days=expires_in_days) if expires_in_days else None
    with container.db.unit_of_work() as session:
        customer = customers.ensure_customer(session, host_user_id=user, now=now)
        result = ledger.credit(session, customer_id=customer.id, entry_id=_entry_id(entry_id), kind="grant",
                               credits=credits, now=now, expires_at=expires_at, source="cli", reason=reason)
    if as_json:
        print_json(result)
        return
    console.print(f"granted {credits} to {user}: balance {result.balance_after}"
                  + (" (already applied)" if result.replayed else ""))


@app.command("adjust", context_settings={"ignore_unknown_options": True})  # lets "-5" be a number
@shows_errors
def adjust(
    user: str = typer.Argument(..., help="the host app's user id"),
    credits: int = typer.Argument(..., help="positive adds, negative takes (never below zero)"),
    reason: str = typer.Option(..., "--reason", help="required: why the correction"),
    entry_id: str | None = typer.Option(None, "--id", help="idempotency key: re-run applies once"),
    as_json: JsonFlag = False,
) -> None:
    """Correct a balance with a reason (a new entry; entries are never edited)."""
    container = load_container()
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        customer_id = ledger.customer_id_for(session, host_user_id=user)
        result = ledger.adjust(session, customer_id=customer_id, entry_id=_entry_id(entry_id),
                               credits=credits, reason=reason, now=now)
    if as_json:
        print_json(result)
        return
    console.print(f"adjusted {user} by {credits:+d}: balance {result.balance_after}")


@app.command("show")
@shows_errors
def show(user: str = typer.Argument(..., help="the host app's user id"), as_json: JsonFlag = False) -> None:
    """A user's credits, as the API and the pages show them: available (this month's free or yearly
    allowance counted before its first use writes it), held, owed, the period's grant, and their parts."""
    state = overview.read_customer_state(load_container(), host_user_id=user)
    if as_json:
        print_json({"host_user_id": user, "known": state.known, **dataclasses.asdict(state.credits)})
        return
    credits = state.credits
    table = Table("available", "held", "debt", "period grant", "used this period", "from plan", "bought")
    table.add_row(str(credits.available), str(credits.held), str(credits.debt), str(credits.period_allowance),
                  str(credits.used_this_period), str(credits.from_plan), str(credits.from_purchases))
    console.print(table)
    if not state.known:
        console.print(f"{user} has not used coinslot yet: this is what they start with")


@app.command("history")
@shows_errors
def history(
    user: str = typer.Argument(..., help="the host app's user id"),
    months: int = typer.Option(6, "--months", min=1, max=120),
    as_json: JsonFlag = False,
) -> None:
    """Usage per month and feature, newest first."""
    container = load_container()
    with container.db.unit_of_work(read_only=True) as session:
        rows = ledger.history(session, customer_id=ledger.customer_id_for(session, host_user_id=user),
                              months=months, now=container.clock.now())
    if as_json:
        print_json(rows)
        return
    table = Table("month", "feature", "uses", "credits")
    for row in rows:
        table.add_row(row.month, row.feature or "-", str(row.uses), str(row.credits))
    console.print(table)


@app.command("verify")
@shows_errors
def verify(as_json: JsonFlag = False) -> None:
    """Recompute every balance from the entries and lots, and check every overage entry is reported to
    Stripe's meter once with its credits; exit 1 and list them if any disagree."""
    container = load_container()
    with container.db.unit_of_work(read_only=True) as session:
        problems = ledger.verify(session) + overage.verify(session)
    if as_json:
        print_json({"clean": not problems, "discrepancies": [str(problem) for problem in problems]})
        if problems:
            sys.exit(1)
        return
    if problems:
        for problem in problems:
            err_console.print(str(problem), highlight=False)
        err_console.print(f"[bold red]{len(problems)} discrepancies[/]")
        sys.exit(1)
    console.print("ledger verified: every balance equals its entries and lots")
