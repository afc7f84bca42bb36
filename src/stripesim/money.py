"""Amounts as people read them: integer minor units in, "$1,234.50" out (never a float).

Stripe sends every amount in the currency's smallest unit: cents for usd,
yen for jpy (a zero-decimal currency), fils for kwd (three decimals).
"""

from __future__ import annotations

__all__ = ["currency_exponent", "format_minor"]

# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
_ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                           "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})
_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def currency_exponent(currency: str) -> int:
    """Digits of the minor unit: 2 for usd, 0 for jpy, 3 for kwd."""
    code = currency.lower()
    if code in _ZERO_DECIMAL:
        return 0
    return 3 if code in _THREE_DECIMAL else 2


def format_minor(amount_minor: int, currency: str) -> str:
    """1234550, "usd" -> "$12,345.50"; 500, "jpy" -> "¥500"; 1999, "chf" -> "19.99 CHF"."""
    exponent = currency_exponent(currency)
    whole, fraction = divmod(abs(int(amount_minor)), 10 ** exponent)
    text = f"{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    sign = "-" if amount_minor < 0 else ""
    symbol = _SYMBOLS.get(currency.lower())
    if symbol is None:
        return f"{sign}{text} {currency.upper()}"
    return f"{sign}{symbol}{text}"
