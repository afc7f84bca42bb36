"""The catalog every domain reads: parsed once, reloaded when it changes, checked against the key's mode."""

from __future__ import annotations

import threading
from pathlib import Path

from coinslot.catalog.core import Catalog, catalog_prices
from coinslot.catalog.parser import CatalogInvalid, CatalogProblem, load_catalog
from coinslot.config import Settings, StripeMode

__all__ = ["check_mode", "clear_cache", "get_catalog", "startup_check"]

_lock = threading.Lock()
# path as configured -> (file identity and version, catalog): a stat per call is cheap next to a
# parse, and an operator's edit is picked up without a restart. The stat follows symlinks, and the
# inode in the stamp notices a symlink moved to another file (a Kubernetes ConfigMap update), so the
# path is not resolved per call: `resolve()` was 8% of the check endpoint's samples (py-spy,
# docs/benchmarks.md).
# The third item: the key modes `check_mode` passed the catalog for (it walked every price on every
# request; a catalog is frozen, so its answer holds until the file changes).
_cache: dict[Path, tuple[tuple[int, int, int, int], Catalog, set[StripeMode]]] = {}


def get_catalog(settings: Settings) -> Catalog:
    """The catalog at `settings.catalog_path`, checked against the Stripe key's mode.

    Raises CatalogInvalid (422) with file/line/field problems when the file is
    wrong, or when it pins price ids of the other mode than the key's.
    """
    path = settings.catalog_path
    try:
        stat = path.stat()
        stamp = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (-1, -1, -1, -1)
    mode = settings.stripe_mode
    with _lock:
        cached = _cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = _cache[path] = (stamp, load_catalog(path.resolve(), display_name=str(path)), set())
        _, catalog, modes_passed = cached
        if mode is None or mode in modes_passed:
            return catalog
    check_mode(catalog, mode)  # raises when the prices pin only the other mode's ids
    modes_passed.add(mode)
    return catalog


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def check_mode(catalog: Catalog, mode: StripeMode | None) -> None:
    """Refuse a catalog that pins price ids for one mode only when the key is of the other.

    A live key with test price ids would send real customers to prices that do not
    exist in live mode (or the reverse): caught at start-up, not at the first checkout.
    """
    if mode is None:
        return
    problems = []
    for price in catalog_prices(catalog):
        if price.price_id_test is None and price.price_id_live is None:
            continue
        if price.pinned_id(livemode=mode == "live") is None:
            other = "test" if mode == "live" else "live"
            problems.append(
                CatalogProblem(
                    catalog.source,
                    catalog.line_of(price.path),
                    price.path,
                    f"pins only a {other}-mode price id (price_id_{other}) but the Stripe key is a "
                    f"{mode} key; add price_id_{mode} or use a {other} key",
                )
            )
    if problems:
        raise CatalogInvalid(problems)


def startup_check(settings: Settings) -> None:
    """Refuse to start with a broken catalog, or one pinning price ids of the other mode than the key's.

    Called where a process starts serving (library `mount`, `coinslot serve`), so a live
    key with test price ids stops the deploy with a file/line message instead of the first checkout.
    """
    if settings.stripe_secret_key is not None and settings.billing_enabled:
        get_catalog(settings)
