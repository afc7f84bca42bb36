"""`coinslot overage attach [--dry-run] [--json]`: add the plan's metered item to the subscriptions started
before their plan had overage (docs/catalog.md, "Overage")."""

from __future__ import annotations

import dataclasses

import typer

from coinslot.cli.common import JsonFlag, load_container, print_json, progress_printer, say, shows_errors
from coinslot.subscriptions.overage_attach import Attachment, attach_overage_items

app = typer.Typer(help="Overage: the metered items that let Stripe bill it.")

_LISTED_MAX = 20  # subscriptions listed in text; --json lists them all


@app.command("attach")
@shows_errors
def attach(
    dry_run: bool = typer.Option(False, "--dry-run", help="read only: print who would get the item, change "
                                                          "nothing"),
    progress_every: int = typer.Option(50, "--progress-every", min=1,
                                       help="print progress every N subscriptions"),
    as_json: JsonFlag = False,
) -> None:
    """Add its plan's metered price to every live subscription on a plan with overage that lacks it; until
    then its uses past the balance are refused, as Stripe would bill none of them. Safe to run again."""
    progress = progress_printer(dry_run=dry_run)
    report = attach_overage_items(load_container(), dry_run=dry_run, on_progress=progress,
                                  progress_every=progress_every)
    if as_json:
        print_json(dataclasses.asdict(report))
    else:
        _print(report)
    if report.failed:
        raise typer.Exit(1)


def _print(report: Attachment) -> None:
    if report.dry_run:
        say("dry run: nothing was changed; this is what attach would do")
    verb = "would attach" if report.dry_run else "attached"
    for done in report.attached[:_LISTED_MAX]:
        say(f"  {verb} {done.metered_price_id} to {done.host_user_id} ({done.subscription}, {done.plan_key})")
    if len(report.attached) > _LISTED_MAX:
        say(f"  and {len(report.attached) - _LISTED_MAX} more (all in --json)")
    say(f"{len(report.attached)} {verb}, {report.already} carrying it already, {len(report.failed)} failed")
    for subscription, why in report.failed:
        say(f"failed: {subscription}: {why}")
