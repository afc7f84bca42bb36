"""What an API key may do. Each /v1 route asks for one scope; `docs/security.md` has the route table and
tests/integration/test_scopes.py walks every route with every scope against it.

    read           GET routes: a customer's state, credits, ledger, usage, orders, Stripe events
    entitlements   a backend's hot path: check, consume, holds (create, capture, release), raw spends
    billing        money moves through Stripe: customers, checkout, orders, subscriptions, the portal
    links          signed links that open a user's billing pages (POST /v1/links)
    admin          everything above, and what only an operator does: credit adjustments

Keys themselves are made and revoked with `coinslot keys` (database access), never through the API, so no
key can mint another.
"""

from __future__ import annotations

from collections.abc import Iterable

from coinslot.errors import InvalidInput

__all__ = ["ALL_SCOPES", "SCOPES", "granted", "parse_scopes", "stored"]

SCOPES: dict[str, str] = {
    "read": "read a customer's state, credits, ledger, usage, orders and Stripe events",
    "entitlements": "check, consume, hold, capture, release and spend credits",
    "billing": "create customers, start checkouts, manage orders, subscriptions and the portal",
    "links": "issue signed links to a user's billing pages",
    "admin": "everything, and adjust credits",
}
ALL_SCOPES = frozenset(SCOPES)


def parse_scopes(values: Iterable[str]) -> tuple[str, ...]:
    """Scopes as an operator writes them (`--scope read --scope entitlements`, or `read,entitlements`),
    sorted; InvalidInput naming the unknown one, or when none is given."""
    found: set[str] = set()
    for value in values:
        for name in value.replace(",", " ").split():
            if name not in SCOPES:
                raise InvalidInput(f"unknown scope {name!r}; choose from: {', '.join(SCOPES)}", field="scope")
            found.add(name)
    if not found:
        raise InvalidInput(f"a key needs at least one scope: {', '.join(SCOPES)} (e.g. --scope entitlements)",
                           field="scope")
    return tuple(sorted(found))


def stored(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))


def granted(column: str | None) -> frozenset[str]:
    """The scopes a key holds: every one for `admin` and for a legacy key (NULL: made before scopes)."""
    if column is None:
        return ALL_SCOPES
    names = frozenset(column.split())
    return ALL_SCOPES if "admin" in names else names
