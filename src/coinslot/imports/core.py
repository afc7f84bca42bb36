"""The pure rules of adopting an existing Stripe account: the mapping file, which host user a Stripe
customer is, and the report. No I/O: text and ids in, decisions out.

The mapping file is a CSV with a header naming the columns `host_user_id` and `stripe_customer_id`
(in either order; other columns are ignored), one customer per line. A bad line stops the import
before anything is read from Stripe, with the file, the line and the field: half an import, linked
from a file with a typo in line 812, is harder to undo than none.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from coinslot.errors import InvalidInput
from coinslot.stripe_ids import is_stripe_id

__all__ = [
    "HOST_USER_ID_MAX_CHARS",
    "ImportConflict",
    "ImportReport",
    "Link",
    "UnmappedPrice",
    "host_user_for",
    "parse_mapping",
]

HOST_USER_ID_MAX_CHARS = 255  # the column's width (customers.host_user_id)
_COLUMNS = ("host_user_id", "stripe_customer_id")


def _refuse(source: str, line: int, column: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{source}, line {line}, {column}: {problem}", field=column)


def parse_mapping(text: str, *, source: str) -> dict[str, str]:
    """Stripe customer id -> host user id, from the mapping file's text; InvalidInput naming the file
    (`source`), the line and the field of the first bad line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    names = [name.strip().lower() for name in header or []]
    missing = [column for column in _COLUMNS if column not in names]
    if missing:
        raise _refuse(source, 1, missing[0], "the header must name the columns host_user_id and "
                                             "stripe_customer_id")
    user_at, customer_at = names.index("host_user_id"), names.index("stripe_customer_id")
    found: dict[str, str] = {}
    line_of_user: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line (a trailing newline, a separator a spreadsheet left)
        host_user_id = row[user_at].strip() if user_at < len(row) else ""
        customer_id = row[customer_at].strip() if customer_at < len(row) else ""
        if not host_user_id or len(host_user_id) > HOST_USER_ID_MAX_CHARS:
            raise _refuse(source, line, "host_user_id",
                          f"must be 1-{HOST_USER_ID_MAX_CHARS} characters, your app's id for the user")
        if not is_stripe_id(customer_id, "cus"):
            raise _refuse(source, line, "stripe_customer_id",
                          f"{customer_id!r} is not a Stripe customer id (cus_...)")
        if customer_id in found:
            raise _refuse(source, line, "stripe_customer_id",
                          f"{customer_id} is already mapped to {found[customer_id]!r}")
        if host_user_id in line_of_user:
            raise _refuse(source, line, "host_user_id", f"{host_user_id!r} is already mapped on line "
                                                        f"{line_of_user[host_user_id]}: one Stripe "
                                                        "customer per host user")
        found[customer_id] = host_user_id
        line_of_user[host_user_id] = line
    return found


@dataclass(frozen=True, slots=True)
class Link:
    host_user_id: str
    by: Literal["mapping", "metadata"]


def host_user_for(stripe_customer_id: str, metadata: Mapping[str, str], *, mapping: Mapping[str, str],
                  metadata_keys: Sequence[str]) -> Link | None:
    """The host user a Stripe customer is: the mapping file's line first (the operator said so), else
    the first of `metadata_keys` the customer's metadata holds; None when neither says."""
    if stripe_customer_id in mapping:
        return Link(mapping[stripe_customer_id], "mapping")
    for key in metadata_keys:
        value = (metadata.get(key) or "").strip()
        if value:
            return Link(value, "metadata")
    return None


@dataclass(frozen=True, slots=True)
class ImportConflict:
    """A customer left out because the link it needs contradicts one coinslot has (or a bad host id)."""

    stripe_customer_id: str
    host_user_id: str
    reason: str


@dataclass
class UnmappedPrice:
    """A plan price (a subscription's first item) no catalog plan stands for."""

    price_id: str
    lookup_key: str | None
    subscriptions: int = 0  # of the account, whatever their status
    not_mirrored: int = 0  # left out: the mirror refuses a subscription granting access with no plan


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do): the same counts either way."""

    dry_run: bool
    customers_seen: int = 0
    linked_by_metadata: int = 0
    linked_by_mapping: int = 0
    unlinked: list[str] = field(default_factory=list)  # Stripe customers no host user was found for
    conflicts: list[ImportConflict] = field(default_factory=list)
    mapping_unused: list[str] = field(default_factory=list)  # mapped ids the account does not have
    subscriptions_seen: int = 0
    subscriptions_mirrored: int = 0
    subscriptions_skipped: int = 0  # of unlinked or conflicting customers, or with an unmapped price
    grants_written: int = 0
    grants_already_made: int = 0  # by an earlier import, or by the invoice's own webhook
    credits_granted: int = 0  # by the grants written in this run
    without_paid_period: int = 0  # serving, but no paid invoice for the current period (past_due...)
    unmapped_prices: list[UnmappedPrice] = field(default_factory=list)

    @property
    def customers_linked(self) -> int:
        return self.linked_by_metadata + self.linked_by_mapping

    def unmapped(self, price_id: str, lookup_key: str | None) -> UnmappedPrice:
        """The entry of a price no plan stands for, added on first sight."""
        for entry in self.unmapped_prices:
            if entry.price_id == price_id:
                return entry
        entry = UnmappedPrice(price_id, lookup_key)
        self.unmapped_prices.append(entry)
        return entry
