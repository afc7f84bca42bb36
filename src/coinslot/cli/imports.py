"""`coinslot import --from-stripe [--mapping FILE.csv] [--metadata-key KEY] [--dry-run] [--json]`: adopt an
existing Stripe account (see docs/import.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from coinslot.cli.common import JsonFlag, console, err_console, load_container, print_json, shows_errors
from coinslot.customers.flows import METADATA_USER_KEY
from coinslot.errors import InvalidInput
from coinslot.imports.core import ImportReport, parse_mapping
from coinslot.imports.flows import import_from_stripe

app = typer.Typer()

_LISTED_MAX = 10  # ids shown in text; --json lists them all


def _read_mapping(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a spreadsheet's byte-order mark is not a column
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the mapping file ({exc})", field="mapping") from None
    return parse_mapping(text, source=str(path))


@app.command("import")
@shows_errors
def import_(
    from_stripe: bool = typer.Option(False, "--from-stripe",
                                     help="adopt the Stripe account of COINSLOT_STRIPE_SECRET_KEY"),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="CSV with the columns host_user_id,stripe_customer_id: links those customers "
                                "(before any metadata)"),
    metadata_key: list[str] = typer.Option(
        [], "--metadata-key", help=f"a customer metadata key holding the host user id, tried after "
                                   f"coinslot's own ({METADATA_USER_KEY}); repeatable"),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="do everything, keep nothing: print what it would do"),
    progress_every: int = typer.Option(50, "--progress-every", min=1,
                                       help="print progress every N customers"),
    as_json: JsonFlag = False,
) -> None:
    """Link a Stripe account's customers to host users, mirror their subscriptions and grant the current
    periods' credits once. Safe to run again: a second run changes nothing."""
    if not from_stripe:
        raise InvalidInput("say where to import from: --from-stripe (the account of "
                           "COINSLOT_STRIPE_SECRET_KEY) is the only source", field="from_stripe")
    links = _read_mapping(mapping) if mapping is not None else {}
    verb = "checked" if dry_run else "imported"

    def progress(done: int, total: int) -> None:
        err_console.print(f"{done}/{total} customers {verb}", highlight=False)

    report = import_from_stripe(load_container(), mapping=links, metadata_keys=metadata_key, dry_run=dry_run,
                                on_progress=progress, progress_every=progress_every)
    if as_json:
        print_json(_as_json(report))
        return
    _print(report)


def _as_json(report: ImportReport) -> dict[str, Any]:
    return {**dataclasses.asdict(report), "customers_linked": report.customers_linked}


def _listed(ids: list[str]) -> str:
    shown = ", ".join(ids[:_LISTED_MAX])
    return shown + (f" and {len(ids) - _LISTED_MAX} more (all in --json)" if len(ids) > _LISTED_MAX else "")


def _print(report: ImportReport) -> None:
    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False, soft_wrap=True)

    if report.dry_run:
        say("dry run: nothing was written; this is what the import would do")
    say(f"customers: {report.customers_seen} read, {report.customers_linked} linked "
        f"({report.linked_by_metadata} by metadata, {report.linked_by_mapping} by the mapping file), "
        f"{len(report.unlinked)} without a host user, {len(report.conflicts)} in conflict")
    say(f"subscriptions: {report.subscriptions_seen} read, {report.subscriptions_mirrored} mirrored, "
        f"{report.subscriptions_skipped} left out")
    say(f"credits: {report.credits_granted} granted by {report.grants_written} period grants "
        f"({report.grants_already_made} granted before); {report.without_paid_period} serving "
        "subscriptions have no paid invoice for their current period")
    if report.unmapped_prices:
        say("prices no catalog plan stands for (add the plan, or pin the price id in the catalog, then "
            "import again):")
        table = Table("price", "lookup key", "subscriptions", "left out")
        for price in report.unmapped_prices:
            table.add_row(price.price_id, price.lookup_key or "-", str(price.subscriptions),
                          str(price.not_mirrored))
        console.print(table)
    if report.unlinked:
        say(f"without a host user (add them to a --mapping file): {_listed(report.unlinked)}")
    for conflict in report.conflicts:
        say(f"conflict: {conflict.stripe_customer_id} -> {conflict.host_user_id}: {conflict.reason}")
    if report.mapping_unused:
        say(f"the mapping file names customers the account does not have: {_listed(report.mapping_unused)}")
