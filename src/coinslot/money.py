"""Money as integer minor units with a currency. Decimal only at the edges (parse, format).

Why: a float cannot hold 0.1 exactly, and a billing system that adds cents in
floats drifts. Amounts live as `amount_minor: int` everywhere, the way Stripe
sends them; this module converts to and from what people type and read.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from coinslot.errors import InvalidInput

__all__ = ["Money", "ceil_decimal", "ceil_div", "currency_exponent", "format_minor", "parse_major"]

# Stripe's zero-decimal currencies: the amount is already in the smallest unit.
_ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
# Three-decimal currencies Stripe supports.
_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def currency_exponent(currency: str) -> int:
    """How many digits the minor unit has: 2 for usd, 0 for jpy, 3 for kwd."""
    code = currency.lower()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInput(
            f"unknown currency {currency!r}: use a 3-letter ISO code such as 'usd'", field="currency"
        )
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def parse_major(text: str | int, currency: str, *, field: str = "amount") -> int:
    """Parse '4.99' (major units, as people write it) into minor units (499).

    More decimals than the currency has is an error, never a silent rounding.
    """
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInput(f"{field}: {text!r} is not a number", field=field) from None
    if not value.is_finite():
        raise InvalidInput(f"{field}: {text!r} is not a number", field=field)
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"{field}: {text} has more decimals than {currency.upper()} allows", field=field)
    return int(scaled)


def format_minor(amount_minor: int, currency: str) -> str:
    """499, 'usd' -> '$4.99'; 500, 'jpy' -> '¥500'; other currencies -> '4.99 EUR'."""
    exponent = currency_exponent(currency)
    major = Decimal(amount_minor).scaleb(-exponent)
    text = f"{major:,.{exponent}f}"
    symbol = {"usd": "$", "gbp": "£", "eur": "€", "jpy": "¥"}.get(currency.lower())
    if symbol is None:
        return f"{text} {currency.upper()}"
    if text.startswith("-"):
        return f"-{symbol}{text[1:]}"
    return f"{symbol}{text}"


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer division rounding up, for positive denominators (no float on the way)."""
    return -((-numerator) // denominator)


def ceil_decimal(value: Decimal) -> int:
    """Round a Decimal up to the next integer (cost multipliers round in the seller's favour)."""
    return int(value.to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("Money.amount_minor must be an int (minor units)")
        object.__setattr__(self, "currency", self.currency.lower())

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount_minor * quantity, self.currency)

    def format(self) -> str:
        return format_minor(self.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")
