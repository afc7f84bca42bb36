"""Typed reads from a parsed TOML catalog that collect problems (file, line, field) instead of raising.

Shared by `parser.py`: each value is checked where it is read, the problem is
recorded with the line `LineIndex` finds for its dotted path, and parsing goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from coinslot.catalog.lines import LineIndex
from coinslot.errors import InvalidInput
from coinslot.limits import CREDITS_MAX
from coinslot.money import currency_exponent

__all__ = [
    "AMOUNT_MINOR_MAX", "CatalogInvalid", "CatalogProblem", "PriceSpec", "Reader", "read_currency",
    "read_price", "shortened", "shown",
]

# Every number of the file is bounded, so that nothing derived from it (a cost times a quantity, a balance
# that adds grants up) can leave a BIGINT column or take a noticeable time to compute: a cost above 2**63
# made every consume a 500, a multiplier of "1e999999" a million-digit cost and 108 s of CPU per consume.
AMOUNT_MINOR_MAX = 99_999_999  # Stripe's largest unit_amount (999,999.99 in a two-decimal currency)
_DIGITS_MAX = 12  # an amount with more significant digits than this is no price; Decimal stays small


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """One thing wrong with the file, where it is, and what to do."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class CatalogInvalid(InvalidInput):
    """The catalog file has problems; `problems` lists each with its file, line and field."""

    code = "catalog_invalid"

    def __init__(self, problems: list[CatalogProblem]) -> None:
        super().__init__(
            "\n".join(str(problem) for problem in problems), field=problems[0].field if problems else None
        )
        self.problems = problems


class Reader:
    """Typed reads from the parsed dicts that record a problem instead of raising."""

    def __init__(self, source: str, lines: LineIndex) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[CatalogProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(CatalogProblem(self.source, self.lines.line_of(path), path, message))

    def table(self, data: dict[str, Any], path: str, key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problem(f"{path}.{key}" if path else key, "must be a table")
            return {}
        return value

    def only(self, data: dict[str, Any], path: str, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                self.problem(f"{path}.{key}", f"unknown field; expected one of: {', '.join(sorted(allowed))}")

    def text(self, data: dict[str, Any], path: str, key: str, default: str | None = None) -> str | None:
        value = data.get(key, default)
        if value is not None and not isinstance(value, str):
            self.problem(f"{path}.{key}", f"must be a string, not {shown(value)}")
            return default
        return value

    def flag(self, data: dict[str, Any], path: str, key: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.problem(f"{path}.{key}", f"must be true or false, not {shown(value)}")
            return False
        return value

    def whole(
        self, data: dict[str, Any], path: str, key: str, *, minimum: int = 0, maximum: int = CREDITS_MAX,
        default: int | None = None,
    ) -> int | None:
        value = data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{path}.{key}", f"must be a whole number, not {shown(value)}")
            return default
        if value < minimum:
            self.problem(f"{path}.{key}", f"must be at least {minimum}, not {value}")
            return default
        if value > maximum:
            self.problem(f"{path}.{key}", f"must be at most {maximum:,}, not {value:,}")
            return default
        return value

    def amount(self, value: Any, path: str, currency: str, *, allow_zero: bool = False) -> int | None:
        """A price as people write it ("4.99", 4.99 or 5) -> minor units; None after a problem."""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.problem(path, f'must be an amount such as "4.99", not {shown(value)}')
            return None
        try:
            major = Decimal(str(value).strip())
        except InvalidOperation:
            self.problem(path, f'{shown(value)} is not an amount such as "4.99"')
            return None
        if not major.is_finite():
            self.problem(path, f'{shown(value)} is not an amount such as "4.99"')
            return None
        # Checked before any arithmetic: scaling "1e999999999" overflows Decimal's context (a traceback).
        if major.adjusted() > _DIGITS_MAX or len(major.as_tuple().digits) > _DIGITS_MAX + 6:
            self.problem(path, f"{shortened(value)} is larger than any price (at most {AMOUNT_MINOR_MAX:,} "
                               "minor units)")
            return None
        scaled = major.scaleb(currency_exponent(currency))
        if scaled != scaled.to_integral_value():
            self.problem(path, f"{shown(value)} has more decimals than {currency.upper()} allows")
            return None
        minor = int(scaled)
        if minor < 0 or (minor == 0 and not allow_zero):
            self.problem(path, f"{shown(value)} must be more than zero")
            return None
        if minor > AMOUNT_MINOR_MAX:
            self.problem(path, f"{shown(value)} is more than Stripe accepts (at most {AMOUNT_MINOR_MAX:,} "
                               "minor units)")
            return None
        return minor


def shortened(value: Any) -> str:
    """`shown(value)`, cut to 40 characters (a problem quotes a value, never a million digits of it)."""
    text = shown(value)
    return text if len(text) <= 40 else text[:37] + "..."


def shown(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


@dataclass(frozen=True, slots=True)
class PriceSpec:
    amount_minor: int
    lookup_key: str | None
    price_id_test: str | None
    price_id_live: str | None


_PRICE_FIELDS = {"amount", "lookup_key", "price_id_test", "price_id_live"}


def read_price(
    reader: Reader, value: Any, path: str, currency: str, *, allow_zero: bool = False
) -> PriceSpec | None:
    """A price written as an amount, or as a table {amount, lookup_key, price_id_test, price_id_live}."""
    if not isinstance(value, dict):
        amount = reader.amount(value, path, currency, allow_zero=allow_zero)
        return None if amount is None else PriceSpec(amount, None, None, None)
    reader.only(value, path, _PRICE_FIELDS)
    if "amount" not in value:
        reader.problem(f"{path}.amount", 'missing; write the price, e.g. amount = "4.99"')
        return None
    amount = reader.amount(value["amount"], f"{path}.amount", currency, allow_zero=allow_zero)
    lookup_key = reader.text(value, path, "lookup_key")
    test_id = reader.text(value, path, "price_id_test")
    live_id = reader.text(value, path, "price_id_live")
    for key, pinned in (("price_id_test", test_id), ("price_id_live", live_id)):
        if pinned is not None and not pinned.startswith("price_"):
            reader.problem(f"{path}.{key}", f'"{pinned}" is not a Stripe price id (price_...)')
    return None if amount is None else PriceSpec(amount, lookup_key, test_id, live_id)


def read_currency(reader: Reader, data: dict[str, Any], path: str, default: str) -> str:
    value = reader.text(data, path, "currency", default) or default
    try:
        currency_exponent(value)
    except InvalidInput:
        reader.problem(f"{path}.currency", f'"{value}" is not a 3-letter currency code such as "usd"')
        return default
    return value.lower()
