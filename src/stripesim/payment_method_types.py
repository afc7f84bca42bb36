"""Stripe's payment method types, and which of them can be saved for later payments.

stripesim charges cards only, but it accepts (and validates) the other types
where Stripe does: Checkout's `payment_method_types` / `allowed_payment_method_types`,
and `expand[]` of a payment method's type-specific hash.
"""

from __future__ import annotations

__all__ = ["ALL", "RECURRING", "at_least_endive"]

# The `type` values of stripe-python 16.1's PaymentMethod (2026-10-28.endive).
ALL = (
    "acss_debit", "affirm", "afterpay_clearpay", "alipay", "alma", "amazon_pay", "au_becs_debit",
    "bacs_debit", "bancontact", "billie", "bizum", "blik", "boleto", "card", "card_present",
    "cashapp", "crypto", "custom", "customer_balance", "eps", "fpx", "giropay", "grabpay", "ideal",
    "interac_present", "kakao_pay", "klarna", "konbini", "kr_card", "link", "mb_way", "mobilepay",
    "multibanco", "naver_pay", "nz_bank_account", "oxxo", "p24", "pay_by_bank", "payco", "paynow",
    "paypal", "paypay", "payto", "pix", "promptpay", "revolut_pay", "samsung_pay", "satispay",
    "scalapay", "sepa_debit", "sequra", "sofort", "sunbit", "swish", "twint", "upi",
    "us_bank_account", "wechat_pay", "zip",
)
# Types Checkout accepts in `subscription` and `setup` mode (they can be saved and charged off
# session), after Stripe's payment-method support table; the others are one-time only.
RECURRING = frozenset({
    "acss_debit", "amazon_pay", "au_becs_debit", "bacs_debit", "bancontact", "card", "cashapp",
    "ideal", "kakao_pay", "klarna", "kr_card", "link", "naver_pay", "nz_bank_account", "paypal",
    "payto", "revolut_pay", "sepa_debit", "sofort", "us_bank_account",
})
# Endive (2026-09-30) replaced Checkout's `payment_method_types` with `allowed_payment_method_types`.
ENDIVE = "2026-09-30"


def at_least_endive(api_version: str) -> bool:
    return api_version[:10] >= ENDIVE
