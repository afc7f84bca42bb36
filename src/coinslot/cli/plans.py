"""`coinslot plans migrate --from v1 --to v2 [--plan KEY] [--at period-end|now] [--dry-run] [--json]`: move an
earlier plan version's subscribers to the version sold now (docs/catalog.md, "Plan versions")."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

import typer

from coinslot.cli.common import JsonFlag, load_container, print_json, progress_printer, say, shows_errors
from coinslot.subscriptions.migrate import Migration, migrate_version

app = typer.Typer(help="Plan versions: move grandfathered subscribers to the version sold now.")

_LISTED_MAX = 20  # subscriptions listed in text; --json lists them all


class At(StrEnum):
    period_end = "period-end"
    now = "now"


@app.command("migrate")
@shows_errors
def migrate(
    from_version: str = typer.Option(..., "--from", help="the earlier version whose subscribers move"),
    to_version: str = typer.Option(..., "--to", help="the version sold now, which they move to"),
    at: At = typer.Option(At.period_end, "--at", help="period-end: from their next renewal, no proration; "
                                                      "now: at once, prorated and invoiced now"),
    plan: str | None = typer.Option(None, "--plan", help="only this plan (default: every plan with that "
                                                         "earlier version)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="read only: print who would move, change nothing"),
    progress_every: int = typer.Option(50, "--progress-every", min=1,
                                       help="print progress every N subscriptions"),
    as_json: JsonFlag = False,
) -> None:
    """Move subscribers from an earlier version of a plan to the current one, with their new price and terms.
    Safe to run again: those moved (or moving) already are left alone."""
    progress = progress_printer(dry_run=dry_run)
    report = migrate_version(load_container(), from_version=from_version, to_version=to_version,
                             at="now" if at is At.now else "period_end", plan_key=plan, dry_run=dry_run,
                             on_progress=progress, progress_every=progress_every)
    if as_json:
        print_json(dataclasses.asdict(report))
    else:
        _print(report)
    if report.failed:
        raise typer.Exit(1)


def _print(report: Migration) -> None:
    when = "at once, prorated" if report.at == "now" else "at each one's period end, without proration"
    if report.dry_run:
        say("dry run: nothing was changed; this is what the migration would do")
    say(f"plans {', '.join(report.plans)}: {report.from_version} -> {report.to_version}, {when}")
    verb = "would move" if report.dry_run else "moved"
    for moved in report.moved[:_LISTED_MAX]:
        effective = moved.effective_at.isoformat() if moved.effective_at else "-"
        say(f"  {verb} {moved.host_user_id} ({moved.subscription}, {moved.plan_key}) from {effective}")
    if len(report.moved) > _LISTED_MAX:
        say(f"  and {len(report.moved) - _LISTED_MAX} more (all in --json)")
    say(f"{len(report.moved)} {verb}, {report.already} moved before, {len(report.failed)} failed")
    for subscription, why in report.failed:
        say(f"failed: {subscription}: {why}")
