"""Auto top-up's use cases inside one transaction: what a customer has agreed to, turning it on (the
consent, then the card saved by a setup-mode Checkout) and off, and the trigger a spend or hold fires.

Charging is `flows.py` (Stripe, outside any transaction) and recording the answer `charges.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.catalog.core import AutoTopupTerms, Catalog
from coinslot.customers import test_clocks
from coinslot.errors import Conflict, InvalidInput, NotFound
from coinslot.models import AutoTopup, AutoTopupSetting
from coinslot.topups import core
from coinslot.topups import repository as repo

# A new top-up is due at once for every worker, whatever its clock: a worker on the wall clock must not wait
# for a customer's Stripe test clock to come round (as `queue.service.replay` does for replayed rows).
_DUE_AT_ONCE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

__all__ = [
    "AdminOverview", "AutoTopupView", "admin_overview", "begin_setup", "complete_setup", "may_top_up",
    "offer", "on_balance_lowered", "record_setup_session", "terms_of", "turn_off",
    "view",
]


def terms_of(catalog: Catalog) -> AutoTopupTerms:
    """The catalog's terms; NotFound (`auto_topup_not_offered`) when it declares none."""
    if catalog.auto_topup is None:
        raise NotFound("this catalog offers no auto top-up: declare [auto_topup]",
                       code="auto_topup_not_offered")
    return catalog.auto_topup


def offer(catalog: Catalog, *, pack_key: str | None) -> core.Offer:
    """One top-up with `pack_key` (None: the first pack the terms name); InvalidInput for another pack."""
    terms = terms_of(catalog)
    key = pack_key or terms.packs[0]
    if key not in terms.packs:
        raise InvalidInput(f"pack {key!r} cannot be bought automatically; choose one of: "
                           f"{', '.join(terms.packs)}", field="pack")
    return core.offer_for(terms, catalog.packs[key])


@dataclass(frozen=True, slots=True)
class AutoTopupView:
    """Everything a page or the API shows of one customer's auto top-up."""

    offered: bool  # the catalog has terms and the customer's plan may use them
    enabled: bool
    offer: core.Offer | None  # what one top-up buys (the chosen pack, else the default one)
    terms: AutoTopupTerms | None
    consent_text: str | None  # agreed (stored) when on; the one to agree to otherwise
    consented_at: dt.datetime | None
    month_count: int  # top-ups this calendar month (of the customer's clock) counted by the cap
    month_amount_minor: int
    setup_pending: bool  # a card set-up was started and has not completed
    notice_code: str | None  # why it was turned off by a failed top-up
    notice: str | None


def view(session: Session, *, customer_id: int | None, plan_key: str | None, catalog: Catalog,
         now: dt.datetime) -> AutoTopupView:
    """A customer's auto top-up as of `now` (a user coinslot has not seen: off)."""
    terms = catalog.auto_topup
    row = repo.setting(session, customer_id=customer_id) if customer_id is not None else None
    if terms is None:
        return AutoTopupView(False, False, None, None, None, None, 0, 0, False, None, None)
    pack_key = row.pack_key if row is not None and row.pack_key in terms.packs else None
    chosen = offer(catalog, pack_key=pack_key)
    month_count = month_amount_minor = 0
    if customer_id is not None:
        month = core.month_of(test_clocks.time_of(session, customer_id=customer_id, now=now))
        month_count, month_amount_minor = repo.month_usage(session, customer_id=customer_id, month=month)
    enabled = row is not None and row.enabled
    text = row.consent_text if enabled and row is not None else core.consent_text(catalog.name, terms, chosen)
    return AutoTopupView(
        offered=terms.allows_plan(plan_key), enabled=enabled, offer=chosen, terms=terms, consent_text=text,
        consented_at=row.consented_at if enabled and row is not None else None,
        month_count=month_count, month_amount_minor=month_amount_minor,
        setup_pending=row is not None and row.setup_session_id is not None and not enabled,
        notice_code=row.notice_code if row is not None else None,
        notice=row.notice if row is not None else None,
    )


def begin_setup(session: Session, *, customer_id: int, plan_key: str | None, pack_key: str | None,
                consent: bool, catalog: Catalog, now: dt.datetime) -> AutoTopupSetting:
    """The customer agreed to the consent text: store it (text, terms, time), to take effect once a card
    is saved (`complete_setup`). The caller then starts the setup-mode Checkout (`flows.start_setup`)."""
    terms = terms_of(catalog)
    if not terms.allows_plan(plan_key):
        raise Conflict(f"auto top-up is not offered on plan {plan_key!r}", code="auto_topup_not_offered")
    if consent is not True:
        raise InvalidInput("turning auto top-up on needs the customer's consent to the terms (consent: true)",
                           field="consent")
    chosen = offer(catalog, pack_key=pack_key)
    row = repo.setting(session, customer_id=customer_id, for_update=True)
    if row is None:
        row = AutoTopupSetting(customer_id=customer_id, enabled=False, created_at=now, updated_at=now)
        repo.add(session, row)
    row.pack_key = chosen.pack_key
    row.consent_text = core.consent_text(catalog.name, terms, chosen)
    row.consent_terms = json.dumps(core.terms_record(terms, chosen), sort_keys=True)
    row.consented_at = now
    row.enabled = False  # until the new card is saved: never charge a card under terms not agreed
    row.setup_session_id = row.setup_url = None
    row.updated_at = now
    return row


def record_setup_session(session: Session, *, customer_id: int, setup_session_id: str, url: str | None,
                         now: dt.datetime) -> None:
    row = repo.setting(session, customer_id=customer_id, for_update=True)
    if row is None:
        raise NotFound(f"customer {customer_id} has not started turning auto top-up on")
    row.setup_session_id, row.setup_url, row.updated_at = setup_session_id, url, now


def complete_setup(session: Session, *, setup_session_id: str, payment_method_id: str | None,
                   now: dt.datetime) -> bool:
    """A setup-mode Checkout completed: the saved card is the one top-ups charge, and auto top-up is on.
    False when the session is not an auto top-up's, was applied already, or saved no card."""
    row = repo.setting_by_session(session, setup_session_id=setup_session_id)
    if row is None or payment_method_id is None:
        return False
    row.stripe_payment_method_id = payment_method_id
    row.enabled = True
    row.notice_code = row.notice = row.disabled_at = None
    row.setup_session_id = None  # applied: a second delivery finds nothing to do
    row.updated_at = now
    return True


def turn_off(session: Session, *, customer_id: int, now: dt.datetime) -> None:
    """The customer turns auto top-up off (a top-up already triggered is still charged)."""
    row = repo.setting(session, customer_id=customer_id, for_update=True)
    if row is None or not row.enabled:
        return
    row.enabled = False
    row.disabled_at = row.updated_at = now


def may_top_up(catalog: Catalog, *, balance_after: int) -> bool:
    """Whether a use that left `balance_after` credits is worth `on_balance_lowered` (no query): a caller
    that must read the customer's plan first reads it only then."""
    return core.below_threshold(catalog.auto_topup, balance_after=balance_after)


def on_balance_lowered(
    session: Session, *, customer_id: int, trigger_entry_id: str, balance_after: int, plan_key: str | None,
    catalog: Catalog, now: dt.datetime,
) -> AutoTopup | None:
    """Called by a use (consume, hold, raw spend, a capture beyond its hold) in its transaction, under the
    customer's ledger lock: when the balance it left is under the threshold, save a pending top-up
    (charged by the worker after the commit, never here: no Stripe call under the lock). Under the lock,
    and with the unique index on open top-ups, concurrent uses start one top-up; a retried use (same
    entry) starts none (`trigger_entry_id`)."""
    terms = catalog.auto_topup
    if terms is None or not may_top_up(catalog, balance_after=balance_after):
        return None  # the usual case, decided without a query
    row = repo.setting(session, customer_id=customer_id)
    if row is None or not row.enabled or row.stripe_payment_method_id is None:
        return None
    chosen = offer(catalog, pack_key=row.pack_key if row.pack_key in terms.packs else None)
    month = core.month_of(now)
    count, amount_minor = repo.month_usage(session, customer_id=customer_id, month=month)
    decided = core.trigger(enabled=True, plan_allowed=terms.allows_plan(plan_key),
                           balance_after=balance_after, terms=terms,
                           has_open=repo.has_open(session, customer_id=customer_id),
                           usage=core.MonthUsage(count, amount_minor), offer=chosen)
    if decided != "top_up":
        return None
    topup = AutoTopup(
        customer_id=customer_id, trigger_entry_id=trigger_entry_id, month=month, pack_key=chosen.pack_key,
        credits=chosen.credits, amount_minor=chosen.amount_minor, currency=chosen.currency,
        stripe_payment_method_id=row.stripe_payment_method_id, status="pending", attempts=0,
        next_attempt_at=_DUE_AT_ONCE, created_at=now,
    )
    repo.add(session, topup)
    return topup


@dataclass(frozen=True, slots=True)
class AdminOverview:
    """The console's view: who turned auto top-up on (and who had it turned off), and the latest top-ups."""

    settings: list[tuple[AutoTopupSetting, str]]  # (setting, host user id), on first
    topups: list[tuple[AutoTopup, str]]  # (top-up, host user id), newest first


def admin_overview(session: Session, *, limit: int = 200) -> AdminOverview:
    settings = list(repo.settings_page(session, limit=limit))
    hosts = {setting.customer_id: host_user_id for setting, host_user_id in settings}
    topups = [(row, hosts.get(row.customer_id, str(row.customer_id)))
              for row in repo.recent_topups(session, limit=limit)]
    return AdminOverview(settings, topups)
