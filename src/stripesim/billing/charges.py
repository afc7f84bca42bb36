"""Charge objects: what one attempt to move money on a card leaves behind."""

from __future__ import annotations

import secrets
from typing import Any

from ..cards import Charge as Outcome
from ..store import new_id

__all__ = ["new_charge"]


def _card_details(pm: dict[str, Any], amount: int) -> dict[str, Any]:
    card = pm.get("card") or {}
    return {
        "amount_authorized": amount, "authorization_code": secrets.token_hex(3).upper(),
        "brand": card.get("brand"), "capture_before": None,
        "checks": {"address_line1_check": None, "address_postal_code_check": None,
                   "cvc_check": None},
        "country": card.get("country"), "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"), "extended_authorization": {"status": "disabled"},
        "fingerprint": card.get("fingerprint"), "funding": card.get("funding"),
        "incremental_authorization": {"status": "unavailable"}, "installments": None,
        "last4": card.get("last4"), "mandate": None, "multicapture": {"status": "unavailable"},
        "network": card.get("brand"), "network_token": {"used": False},
        "network_transaction_id": secrets.token_hex(8),
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": "unregulated", "three_d_secure": None,
        "transaction_link_id": None, "wallet": None,
    }


def _outcome(result: Outcome) -> dict[str, Any]:
    if result.succeeds:
        return {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                "risk_score": 20, "rule": None, "seller_message": "Payment complete.",
                "type": "authorized"}
    return {"advice_code": "try_again_later", "network_advice_code": None,
            "network_decline_code": None, "network_status": "declined_by_network",
            "reason": result.decline_code, "risk_level": "normal", "risk_score": 20,
            "rule": None,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined"}


def new_charge(*, pi: dict[str, Any], pm: dict[str, Any], result: Outcome,
               created: int) -> dict[str, Any]:
    """A succeeded or failed charge for `pi` on card `pm` (not stored)."""
    charge_id = new_id("ch")
    ok = result.succeeds
    amount = int(pi["amount"])
    return {
        "id": charge_id, "object": "charge", "amount": amount,
        "amount_captured": amount if ok else 0, "amount_refunded": 0, "application": None,
        "application_fee": None, "application_fee_amount": None,
        "balance_transaction": None,  # billing.account_balance.record_charge links it once stored
        "billing_details": pm.get("billing_details"),
        "calculated_statement_descriptor": "STRIPESIM", "captured": ok, "created": created,
        "currency": pi["currency"], "customer": pi.get("customer"),
        "description": pi.get("description"), "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if ok else result.code,
        "failure_message": None if ok else result.message,
        "fraud_details": {}, "livemode": False, "metadata": dict(pi.get("metadata") or {}),
        "on_behalf_of": None, "outcome": _outcome(result), "paid": ok,
        "payment_intent": pi["id"], "payment_method": pm["id"],
        "payment_method_details": {"card": _card_details(pm, amount), "type": "card"},
        "receipt_email": pi.get("receipt_email"), "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/stripesim/{charge_id}",
        "refunded": False,
        "review": None, "shipping": None, "source": None, "source_transfer": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "succeeded" if ok else "failed", "transfer_data": None,
        "transfer_group": None,
    }
