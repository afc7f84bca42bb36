"""What Stripe answered for a top-up, applied once (the worker's answer and the webhook, whichever comes
first): credits granted on success, auto top-up turned off on a decline or an authentication demand,
and the host told (outbox `auto_topup.succeeded` / `auto_topup.failed`, ready to become an email)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog
from coinslot.customers import service as customers
from coinslot.customers import test_clocks
from coinslot.ledger import ids as ledger_ids
from coinslot.ledger import service as ledger
from coinslot.models import AUTO_TOPUP_OPEN_STATUSES, AutoTopup
from coinslot.money import format_minor
from coinslot.outbound import service as outbound
from coinslot.stripe_gateway.charges import StripeChargeData
from coinslot.stripe_gateway.payments import StripePaymentIntentData
from coinslot.topups import core
from coinslot.topups import repository as repo

__all__ = ["METADATA_TOPUP", "is_topup", "record_payment_intent", "record_refunds", "record_started"]

# On the PaymentIntent: which top-up row it charges, so its webhooks find the row.
METADATA_TOPUP = "coinslot_auto_topup"


def record_started(session: Session, *, topup_id: int, payment_intent_id: str) -> None:
    """Remember the PaymentIntent a top-up made (for the webhook and the admin console)."""
    row = repo.topup(session, topup_id=topup_id, for_update=True)
    if row is not None and row.stripe_payment_intent_id is None:
        row.stripe_payment_intent_id = payment_intent_id


def record_payment_intent(session: Session, *, payment_intent: StripePaymentIntentData, catalog: Catalog,
                          now: dt.datetime, topup_id: int | None = None) -> str:
    """Apply a top-up's PaymentIntent: succeeded -> credits granted; refused -> off, with a notice.
    Idempotent: a top-up resolves once (its row is locked, its ledger entry keyed by the intent). The
    outcome: succeeded | declined | waiting (neither yet) | unknown (no top-up of ours)."""
    row = _row(session, payment_intent=payment_intent, topup_id=topup_id)
    if row is None:
        return "unknown"
    if row.status not in AUTO_TOPUP_OPEN_STATUSES:
        return row.status  # resolved already: nothing happens twice
    row.stripe_payment_intent_id = row.stripe_payment_intent_id or payment_intent.id
    at = test_clocks.time_of(session, customer_id=row.customer_id, now=now)
    if payment_intent.status == "succeeded":
        _grant(session, row, payment_intent=payment_intent, catalog=catalog, now=at)
        return "succeeded"
    if payment_intent.failure_code is None:
        return "waiting"  # processing, or created and not confirmed yet: its webhook will say
    _decline(session, row, payment_intent=payment_intent, now=at)
    return "declined"


def is_topup(payment_intent: StripePaymentIntentData) -> bool:
    """Whether a PaymentIntent charged an auto top-up (its metadata names the row)."""
    return METADATA_TOPUP in payment_intent.metadata


def record_refunds(session: Session, *, charge: StripeChargeData, payment_intent: StripePaymentIntentData,
                   now: dt.datetime) -> bool:
    """Take back a refunded top-up's credits, as a refunded pack's are (`ledger.service.refund_purchase`,
    from the lot of entry `auto_topup:<pi_...>`): each refund its share, once per refund id, the spent part
    becoming debt. False when no top-up of ours was paid by `payment_intent` (the caller alerts)."""
    row = _row(session, payment_intent=payment_intent, topup_id=None)
    if row is None:
        return False
    at = test_clocks.time_of(session, customer_id=row.customer_id, now=now)
    ledger.refund_purchase(session, customer_id=row.customer_id,
                           source=ledger_ids.auto_topup(payment_intent.id),
                           charge_amount_minor=charge.amount_minor, refunds=charge.refunds, now=at)
    return True


def _row(
    session: Session, *, payment_intent: StripePaymentIntentData, topup_id: int | None
) -> AutoTopup | None:
    if topup_id is None:
        marked = payment_intent.metadata.get(METADATA_TOPUP, "")
        topup_id = int(marked) if marked.isdigit() else None
    if topup_id is not None:
        return repo.topup(session, topup_id=topup_id, for_update=True)
    return repo.topup_by_payment_intent(session, payment_intent_id=payment_intent.id)


def _grant(session: Session, row: AutoTopup, *, payment_intent: StripePaymentIntentData, catalog: Catalog,
           now: dt.datetime) -> None:
    """The pack's credits, the way a pack bought through Checkout gets them: a purchase entry keyed by the
    Stripe object that paid (here the intent), expiring as the pack says, counted from the payment."""
    pack = catalog.packs.get(row.pack_key)
    days = pack.expires_after_days if pack is not None else None
    paid_at = dt.datetime.fromtimestamp(payment_intent.created, dt.UTC) if payment_intent.created else now
    entry_id = ledger_ids.auto_topup(payment_intent.id)
    granted = ledger.credit(
        session, customer_id=row.customer_id, entry_id=entry_id, kind="purchase", credits=row.credits,
        now=now, expires_at=paid_at + dt.timedelta(days=days) if days else None, source=entry_id,
        reason=f"auto_topup:{row.pack_key}",
    )
    row.status, row.ledger_entry_id, row.resolved_at = "succeeded", entry_id, now
    row.locked_by = row.locked_until = row.next_attempt_at = None
    amount = format_minor(row.amount_minor, row.currency)
    _announce(session, row, "auto_topup.succeeded", now=now, extra={
        "available_credits": granted.balance_after,
        "email": {"subject": f"Your credits were topped up: {row.credits} credits for {amount}",
                  "text": f"Your balance fell below your auto top-up threshold, so your saved card was "
                          f"charged {amount} for {row.credits} credits. You now have "
                          f"{granted.balance_after} credits."},
    })


def _decline(session: Session, row: AutoTopup, *, payment_intent: StripePaymentIntentData,
             now: dt.datetime) -> None:
    code = payment_intent.failure_code or "card_declined"
    notice = core.failure_notice(code)
    row.status, row.resolved_at = "declined", now
    row.failure_code, row.failure_message = code[:60], payment_intent.failure_message
    row.locked_by = row.locked_until = row.next_attempt_at = None
    setting = repo.setting(session, customer_id=row.customer_id, for_update=True)
    if setting is not None:
        setting.enabled = False
        setting.notice_code, setting.notice = code[:60], notice
        setting.disabled_at = setting.updated_at = now
    _announce(session, row, "auto_topup.failed", now=now, extra={
        "failure_code": code,
        "needs_authentication": code == "authentication_required",
        "auto_topup_enabled": False,
        "email": {"subject": "Your automatic top-up did not go through",
                  "text": f"{notice} Open your billing page to turn it back on."},
    })


def _announce(session: Session, row: AutoTopup, event_type: str, *, now: dt.datetime,
              extra: dict[str, object]) -> None:
    customer = customers.get_by_id(session, customer_id=row.customer_id)
    outbound.enqueue(session, event_type=event_type, now=now, payload={
        "host_user_id": customer.host_user_id if customer is not None else None,
        "customer_id": row.customer_id,
        "auto_topup_id": row.id,
        "pack": row.pack_key,
        "credits": row.credits,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "payment_intent": row.stripe_payment_intent_id,
        **extra,
    })
