"""What is due when, and running it in time order.

Due work is derived from object state rather than kept in a queue, so it
survives restarts and never goes stale: a subscription is due at its period
end, a draft at `automatically_finalizes_at`, an open invoice at
`next_payment_attempt`, and so on. `run_next` performs the earliest item
due at or before `until` for one clock (None = objects on real time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import discounts
from .context import Ctx
from .dunning import end_of_window
from .invoicing import finalize
from .lifecycle import TRIAL_WILL_END_S, renew, trial_will_end
from .payment import pay_invoice
from .subscription_end import INCOMPLETE_EXPIRY_S, expire_incomplete
from .subscription_shape import period_end_of

__all__ = ["EXTRA_SOURCES", "Due", "due_items", "run_next"]

# (time, order at equal times, action)
Due = tuple[int, int, Callable[[Ctx, int], None]]
# Other modules (checkout expiry) add their own due work: fn(store objects of a clock).
EXTRA_SOURCES: list[Callable[[Ctx, str | None], list[Due]]] = []
_LIVE = ("active", "trialing", "past_due", "unpaid")


def _on_clock(obj: dict[str, Any], clock_id: str | None) -> bool:
    return obj.get("test_clock") == clock_id


def _subscription_due(sub: dict[str, Any], expiry_due_of: Callable[[dict[str, Any]],
                      list[tuple[int, str]]]) -> list[Due]:
    due: list[Due] = []
    status = sub["status"]
    if status in _LIVE:
        end = period_end_of(sub)
        if sub["cancel_at"] is not None and sub["cancel_at"] < end:
            end = int(sub["cancel_at"])
        due.append((end, 6, lambda ctx, at: renew(ctx, sub, at)))
    if status == "incomplete":
        due.append((int(sub["created"]) + INCOMPLETE_EXPIRY_S, 3,
                    lambda ctx, at: expire_incomplete(ctx, sub, at)))
    if status in _LIVE or status == "paused":
        for end, discount_id in expiry_due_of(sub):
            due.append((end, 5, _discount_ender(sub, discount_id)))
    if status == "trialing" and sub["trial_end"] and not sub.get("_trial_will_end_sent"):
        when = max(int(sub["trial_end"]) - TRIAL_WILL_END_S, int(sub["created"]))
        due.append((when, 4, lambda ctx, at: trial_will_end(ctx, sub)))
    return due


def _discount_ender(sub: dict[str, Any], discount_id: str) -> Callable[[Ctx, int], None]:
    """A repeating discount ends before the renewal due at the same moment (order 5 < 6)."""
    return lambda ctx, at: discounts.remove(ctx, sub, discount_id)


def _invoice_due(invoice: dict[str, Any]) -> list[Due]:
    if not invoice.get("auto_advance"):
        return []
    if invoice["status"] == "draft" and invoice.get("automatically_finalizes_at"):
        def finalize_and_pay(ctx: Ctx, at: int) -> None:
            finalize(ctx, invoice, at)
            if invoice["status"] == "open":
                pay_invoice(ctx, invoice)
        return [(int(invoice["automatically_finalizes_at"]), 1, finalize_and_pay)]
    if invoice["status"] == "open" and invoice.get("next_payment_attempt"):
        return [(int(invoice["next_payment_attempt"]), 2,
                 lambda ctx, at: _retry(ctx, invoice))]
    if invoice["status"] == "open" and invoice.get("_dunning_ends_at"):
        return [(int(invoice["_dunning_ends_at"]), 2,
                 lambda ctx, at: end_of_window(ctx, invoice, at))]
    return []


def _retry(ctx: Ctx, invoice: dict[str, Any]) -> None:
    invoice["next_payment_attempt"] = None  # the attempt itself sets the next one
    pay_invoice(ctx, invoice)


def due_items(ctx: Ctx, clock_id: str | None) -> list[Due]:
    store = ctx.store
    due: list[Due] = []
    for sub in store.all("subscription"):
        if _on_clock(sub, clock_id):
            due.extend(_subscription_due(sub, lambda s: discounts.expiry_due(ctx, s)))
    for invoice in store.all("invoice"):
        if _on_clock(invoice, clock_id) and invoice.get("status") in ("draft", "open"):
            due.extend(_invoice_due(invoice))
    for source in EXTRA_SOURCES:
        due.extend(source(ctx, clock_id))
    return due


def run_next(ctx: Ctx, clock_id: str | None, until: int,
             set_time: Callable[[int], None] | None = None) -> bool:
    """Run the earliest work due ≤ `until`; False when nothing is due."""
    due = [d for d in due_items(ctx, clock_id) if d[0] <= until]
    if not due:
        return False
    when, _, action = min(due, key=lambda d: (d[0], d[1]))
    if set_time is not None:
        set_time(when)
    action(ctx, when)
    return True
