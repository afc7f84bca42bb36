"""The code under test, found at run time: a scenario whose code is not in the tree reports n/a.

Other engineers built these domains while the harness was written, so nothing
here is imported at module load; each finder raises NotAvailable with the
reason instead of letting the whole run fail on an ImportError.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bench.harness import NotAvailable
from bench.servers import REPO

__all__ = ["CATALOG", "Consume", "find_consume", "has_route"]

CATALOG = REPO / "examples" / "catalogs" / "patch_hive.toml"


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise NotAvailable(f"{name} is not in the tree ({exc})") from exc


def has_route(method: str, path: str) -> None:
    """NotAvailable unless coinslot's app serves `method path`."""
    from coinslot.app import DOMAIN_ROUTERS

    for router in DOMAIN_ROUTERS:
        for route in router.routes:
            if getattr(route, "path", None) == path and method in getattr(route, "methods", set()):
                return
    raise NotAvailable(f"coinslot serves no {method} {path} yet")


@dataclass(frozen=True)
class Consume:
    """One consume of the `export` feature inside the caller's unit of work."""

    label: str  # which function is measured, printed beside the figure
    call: Callable[[Session, str, str, dt.datetime], object]  # (session, host user id, idempotency key, now)
    grouped: Callable[[Any, str, str, dt.datetime], object]  # the same through a GroupCommit, as the API does


def find_consume() -> Consume:
    """entitlements' consume: check and spend under the customer's ledger lock, in one transaction."""
    service = _module("coinslot.entitlements.service")
    if not hasattr(service, "consume"):
        raise NotAvailable("coinslot.entitlements.service has no consume()")
    from coinslot.catalog.parser import load_catalog

    catalog = load_catalog(CATALOG)

    def consume(session: Session, user: str, key: str, now: dt.datetime) -> object:
        return service.consume(session, host_user_id=user, feature="export", idempotency_key=key,
                               catalog=catalog, now=now)

    def grouped(writes: Any, user: str, key: str, now: dt.datetime) -> object:
        return service.consume_grouped(writes, host_user_id=user, feature="export", idempotency_key=key,
                                       catalog=catalog, now=now)

    return Consume("entitlements.service.consume / consume_grouped (feature export, 3 credits)", consume,
                   grouped)
