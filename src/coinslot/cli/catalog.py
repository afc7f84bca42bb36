"""`coinslot catalog check [PATH]` and `coinslot catalog push [--dry-run] [--live]`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn

from coinslot.catalog import flows
from coinslot.catalog.core import Catalog
from coinslot.catalog.parser import CatalogInvalid, load_catalog
from coinslot.catalog.service import check_mode
from coinslot.cli.common import JsonFlag, console, err_console, print_json, shows_errors
from coinslot.config import Settings
from coinslot.stripe_gateway import StripeGateway

app = typer.Typer(help="The plans file: validate it, push it to Stripe.", no_args_is_help=True)


def _report(exc: CatalogInvalid, *, as_json: bool = False) -> None:
    if as_json:
        print_json({"ok": False, "problems": [
            {"file": p.file, "line": p.line, "field": p.field, "message": p.message} for p in exc.problems]})
    for problem in exc.problems:
        err_console.print(f"[bold red]error[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    count = len(exc.problems)
    err_console.print(f"{count} problem{'s' if count != 1 else ''} found", highlight=False)
    sys.exit(2)


@app.command("check")
@shows_errors
def check(
    path: Path | None = typer.Argument(None, help="catalog file (default: COINSLOT_CATALOG_PATH)"),
    as_json: JsonFlag = False,
) -> None:
    """Validate the catalog; list every problem with file, line and field (exit 2), or exit 0."""
    settings = Settings()
    target = path or settings.catalog_path
    try:
        catalog = load_catalog(target)
        if settings.stripe_secret_key is not None:
            check_mode(catalog, settings.stripe_mode)
    except CatalogInvalid as exc:
        _report(exc, as_json=as_json)
        return
    if as_json:
        print_json({"ok": True, "file": str(target), "plans": len(catalog.plans),
                    "products": len(catalog.products), "packs": len(catalog.packs),
                    "features": len(catalog.features)})
        return
    console.print(
        f"{target}: ok - {len(catalog.plans)} plans, {len(catalog.products)} products, "
        f"{len(catalog.packs)} packs, {len(catalog.features)} features",
        highlight=False,
        soft_wrap=True,
    )


@app.command("push")
@shows_errors
def push(
    dry_run: bool = typer.Option(False, "--dry-run", help="show the plan only; change nothing"),
    live: bool = typer.Option(False, "--live", help="required to push with a live-mode key"),
    as_json: JsonFlag = False,
) -> None:
    """Create or update Stripe products and prices from the catalog (prints the plan first)."""
    settings = Settings()
    try:
        catalog = load_catalog(settings.catalog_path)
        check_mode(catalog, settings.stripe_mode)
    except CatalogInvalid as exc:
        _report(exc, as_json=as_json)
        return
    gateway = StripeGateway.from_settings(settings)
    if as_json:
        _push_as_json(gateway, catalog, dry_run=dry_run, live=live)
        return
    mode = "LIVE" if gateway.livemode else "test"
    console.print(f"Stripe mode: [bold]{mode}[/] - catalog {settings.catalog_path} ({catalog.name})")
    if gateway.livemode and not live:
        err_console.print("[bold red]error[/]: the key is a live-mode key; pass --live to push to live mode")
        sys.exit(2)
    plan = flows.plan_push(gateway, catalog)
    for path in plan.pinned:
        console.print(f"  pinned, left alone: {path}", highlight=False, soft_wrap=True)
    if plan.is_empty:
        console.print(f"nothing to change ({plan.unchanged} prices up to date)")
        return
    console.print(f"plan ({len(plan.actions)} changes):")
    for action in plan.actions:
        console.print(f"  + {action.description}", highlight=False, soft_wrap=True)
    if dry_run:
        console.print("dry run: nothing changed")
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("pushing", total=len(plan.actions))
        flows.apply_push(gateway, plan, on_step=lambda _action: progress.advance(task))
    console.print(f"done: {len(plan.actions)} changes applied")


def _push_as_json(gateway: StripeGateway, catalog: Catalog, *, dry_run: bool, live: bool) -> None:
    """`push --json`: the plan, and what was applied, as one document (refusals as the error envelope)."""
    if gateway.livemode and not live:
        print_json({"error": {"code": "live_mode", "message": "the key is a live-mode key: pass --live"}})
        sys.exit(2)
    plan = flows.plan_push(gateway, catalog)
    applied = not dry_run and not plan.is_empty
    if applied:
        flows.apply_push(gateway, plan)
    print_json({"livemode": gateway.livemode, "dry_run": dry_run, "applied": applied,
                "changes": [{"kind": action.kind, "key": action.key, "description": action.description}
                            for action in plan.actions],
                "pinned": plan.pinned, "unchanged": plan.unchanged})
