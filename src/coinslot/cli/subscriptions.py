"""`coinslot subscription cancel|resume|change|portal`: the same actions as the API, for operators."""

from __future__ import annotations

from typing import Literal

import typer

from coinslot.cli.common import JsonFlag, console, load_container, print_json, shows_errors
from coinslot.subscriptions import flows

app = typer.Typer(
    help="A host user's subscription: cancel at period end, resume, change plan, portal link.",
    no_args_is_help=True,
)


def _show(view: flows.SubscriptionView, *, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    pending = f", switching to {view.pending_plan_key} at period end" if view.pending_plan_key else ""
    ending = ", cancels at period end" if view.cancel_at_period_end else ""
    console.print(
        f"{view.stripe_subscription_id}: {view.status} on {view.plan_key} ({view.interval}), "
        f"period ends {view.current_period_end}{ending}{pending}"
    )


@app.command("cancel")
@shows_errors
def cancel(host_user_id: str, as_json: JsonFlag = False) -> None:
    """Cancel at the end of the paid period."""
    _show(flows.cancel_at_period_end(load_container(), host_user_id=host_user_id), as_json=as_json)


@app.command("resume")
@shows_errors
def resume(host_user_id: str, as_json: JsonFlag = False) -> None:
    """Undo a cancellation at period end."""
    _show(flows.resume(load_container(), host_user_id=host_user_id), as_json=as_json)


@app.command("change")
@shows_errors
def change(
    host_user_id: str,
    plan: str,
    interval: str | None = typer.Option(None, help="month | year (default: the current one)"),
    timing: str | None = typer.Option(None, help="now | period_end (default: upgrade now, downgrade at end)"),
    as_json: JsonFlag = False,
) -> None:
    """Switch plan."""
    if interval not in (None, "month", "year") or timing not in (None, "now", "period_end"):
        raise typer.BadParameter("interval is month|year, timing is now|period_end")
    chosen_interval: Literal["month", "year"] | None = interval  # type: ignore[assignment]
    chosen_timing: flows.ChangeTiming | None = timing  # type: ignore[assignment]
    _show(
        flows.change_plan(
            load_container(),
            host_user_id=host_user_id,
            plan_key=plan,
            interval=chosen_interval,
            timing=chosen_timing,
        ),
        as_json=as_json,
    )


@app.command("portal")
@shows_errors
def portal(
    host_user_id: str, return_url: str = typer.Option(..., help="where the portal's back link leads"),
    as_json: JsonFlag = False,
) -> None:
    """Print a billing portal link for the user."""
    url = flows.open_portal(load_container(), host_user_id=host_user_id, return_url=return_url).url
    if as_json:
        print_json({"url": url})
        return
    console.print(url)
