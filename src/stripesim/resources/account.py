"""/v1/account: the one (test-mode) account every key of stripesim belongs to.

Many clients read it on first use of a key (dj-stripe syncs it as the owner of
every object). It is fixed: same id after a restart or a reset, so clients
that cached it keep finding it. `GET /v1/accounts/{id}` answers for that id;
`GET /v1/accounts` (connected accounts) is an empty list.
"""

from __future__ import annotations

from typing import Any

from ..errors import ResourceMissing
from ..pagination import paginate
from ..params import reject_unknown
from ..routing import Call, Router
from ..shapes import blank_address

__all__ = ["ACCOUNT_ID", "account", "router"]

router = Router()
ACCOUNT_ID = "acct_1StripesimTestAcct0"
_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z


def _requirements() -> dict[str, Any]:
    return {"alternatives": [], "current_deadline": None, "currently_due": [],
            "disabled_reason": None, "errors": [], "eventually_due": [], "past_due": [],
            "pending_verification": []}


def account() -> dict[str, Any]:
    """The account object (a fresh copy)."""
    return {
        "id": ACCOUNT_ID, "object": "account",
        "business_profile": {
            "annual_revenue": None, "estimated_worker_count": None, "mcc": "5734",
            "minority_owned_business_designation": None, "name": "stripesim",
            "product_description": "A local emulator of Stripe's API",
            "support_address": blank_address(), "support_email": None, "support_phone": None,
            "support_url": None, "url": None},
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True, "controller": {"type": "account"}, "country": "US",
        "created": _CREATED, "default_currency": "usd", "details_submitted": True,
        "email": "owner@stripesim.local",
        "external_accounts": {"object": "list", "data": [], "has_more": False,
                              "url": f"/v1/accounts/{ACCOUNT_ID}/external_accounts"},
        "future_requirements": _requirements(), "metadata": {}, "payouts_enabled": True,
        "requirements": _requirements(),
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {"icon": None, "logo": None, "primary_color": None,
                         "secondary_color": None},
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {"decline_on": {"avs_failure": False, "cvc_failure": False},
                              "statement_descriptor_prefix": "STRIPESIM",
                              "statement_descriptor_prefix_kana": None,
                              "statement_descriptor_prefix_kanji": None},
            "dashboard": {"display_name": "stripesim", "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": "offer"},
            "payments": {"statement_descriptor": "STRIPESIM", "statement_descriptor_kana": None,
                         "statement_descriptor_kanji": None,
                         "statement_descriptor_prefix_kana": None,
                         "statement_descriptor_prefix_kanji": None},
            "payouts": {"debit_negative_balances": True,
                        "schedule": {"delay_days": 2, "interval": "daily"},
                        "statement_descriptor": None},
            "sepa_debit_payments": {}},
        "tos_acceptance": {"date": _CREATED, "ip": "127.0.0.1", "user_agent": None},
        "type": "standard",
    }


@router.get("/v1/account")
def retrieve(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, set())
    return account()


@router.get("/v1/accounts")
def list_connected(call: Call) -> dict[str, Any]:
    """Connected accounts: stripesim's account is no Connect platform, so there are none."""
    reject_unknown(call.params, {"limit", "starting_after", "ending_before", "created"})
    return paginate(call, [], url="/v1/accounts", noun="account")


@router.get("/v1/accounts/{id}")
def retrieve_by_id(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, set())
    if call.path_params["id"] != ACCOUNT_ID:
        raise ResourceMissing("account", call.path_params["id"], param="account")
    return account()
