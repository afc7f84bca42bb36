"""The catalog file (TOML) -> `catalog.core.Catalog`, with every problem named by file, line and field.

    catalog.toml:14: plans.pro.prices.monthly: "4.999" has more decimals than USD allows

Numbers are read with `parse_float=Decimal`, so "4.99" and 4.99 both become
exactly 499 cents; a float never exists. All problems are collected, not only
the first, so an operator fixes the file in one pass. The format is
documented in `docs/catalog.md`.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, cast

from coinslot.catalog.auto_topup import read_auto_topup
from coinslot.catalog.core import (
    Catalog,
    CreditPack,
    Feature,
    Interval,
    OneTimeProduct,
    Plan,
    PlanPrice,
    catalog_prices,
    overage_prices,
)
from coinslot.catalog.lines import LineIndex
from coinslot.catalog.overage_terms import read_overage
from coinslot.catalog.parse_addons import SEAT_FIELDS, read_addons, read_seats
from coinslot.catalog.reader import (
    CatalogInvalid,
    CatalogProblem,
    Reader,
    read_currency,
    read_price,
    shortened,
    shown,
)
from coinslot.catalog.versions import read_trial_without_card, with_versions

__all__ = ["CatalogInvalid", "CatalogProblem", "load_catalog", "parse_catalog"]

_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_INTERVALS: dict[str, Interval] = {"monthly": "month", "yearly": "year"}
_LOOKUP_KEY_MAX = 200  # Stripe's limit


# A use's cost is credits x quantity (at most 1,000,000) x factor: bounded so that it stays a small
# integer, computed at once (10**15 at the very most, far inside BIGINT).
_USE_CREDITS_MAX = 1_000_000
_USES_MAX = 1_000_000_000
_FACTOR_MAX = 1000
_FACTOR_DECIMALS = 4
_DAYS_MAX = 3650  # purchased credits' lifetime: ten years


def _factor(value: Any) -> Decimal | None:
    """A multiplier as written ("1.5", 1.5 or 2): positive, at most 1000, at most 4 decimals; else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        parsed = Decimal(str(value).strip()) if len(str(value)) <= 40 else Decimal("NaN")
    except InvalidOperation:
        return None
    if not parsed.is_finite() or parsed <= 0 or parsed > _FACTOR_MAX:
        return None
    exponent = parsed.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_FACTOR_DECIMALS and parsed != parsed.quantize(
            Decimal(1).scaleb(-_FACTOR_DECIMALS)):
        return None
    return parsed


def _features(reader: Reader, data: dict[str, Any]) -> dict[str, Feature]:
    features: dict[str, Feature] = {}
    for key, spec in reader.table(data, "", "features").items():
        path = f"features.{key}"
        if not isinstance(spec, dict):
            reader.problem(path, "must be a table: [features.<key>]")
            continue
        reader.only(spec, path, {"name", "credits", "multiplier_param", "multipliers", "limit_per_period"})
        multipliers: dict[str, Decimal] = {}
        for value_name, factor in reader.table(spec, path, "multipliers").items():
            factor_path = f"{path}.multipliers.{value_name}"
            parsed = _factor(factor)
            if parsed is None:
                bounds = f"at most {_FACTOR_MAX}, {_FACTOR_DECIMALS} decimals"
                reader.problem(factor_path, f'must be a positive number such as "1.5" ({bounds}), '
                                            f"not {shortened(factor)}")
                continue
            multipliers[value_name] = parsed
        param = reader.text(spec, path, "multiplier_param")
        if multipliers and not param:
            reader.problem(
                f"{path}.multiplier_param", "missing; name the request parameter the multipliers read"
            )
        if param and not spec.get("multipliers"):  # (a table whose factors were refused said so above)
            reader.problem(f"{path}.multipliers", f"missing; give a factor for each value of {param}")
        features[key] = Feature(
            key=key,
            name=reader.text(spec, path, "name") or key.replace("_", " ").capitalize(),
            credits=reader.whole(spec, path, "credits", maximum=_USE_CREDITS_MAX, default=0) or 0,
            multiplier_param=param,
            multipliers=multipliers,
            limit_per_period=reader.whole(spec, path, "limit_per_period", minimum=1, maximum=_USES_MAX),
        )
    return features


_PLAN_FIELDS = {
    "type",
    "name",
    "description",
    "bullets",
    "popular",
    "prices",
    "credits_per_period",
    "unlimited",
    "rollover_cap",
    "features",
    "trial_days",
    "allow_promotion_codes",
    "automatic_tax",
    "currency",
    "overage",
    "version",
    "versions",
    "trial_without_card",
} | SEAT_FIELDS


def _plan(
    reader: Reader, key: str, spec: dict[str, Any], rank: int, currency: str, features: dict[str, Feature]
) -> Plan:
    path = f"plans.{key}"
    reader.only(spec, path, _PLAN_FIELDS)
    kind = spec.get("type", "subscription")
    if kind not in ("free", "subscription"):
        reader.problem(f"{path}.type", f'{shown(kind)} is not a plan type; use "free" or "subscription"')
        kind = "subscription"
    currency = read_currency(reader, spec, path, currency)
    prices: dict[Interval, PlanPrice] = {}
    for label, spec_value in reader.table(spec, path, "prices").items():
        price_path = f"{path}.prices.{label}"
        interval = _INTERVALS.get(label)
        if interval is None:
            reader.problem(price_path, "unknown interval; use monthly or yearly")
            continue
        parsed = read_price(reader, spec_value, price_path, currency)
        if parsed is not None:
            prices[interval] = PlanPrice(
                interval,
                parsed.amount_minor,
                currency,
                parsed.lookup_key or f"coinslot:plan:{key}:{interval}",
                parsed.price_id_test,
                parsed.price_id_live,
            )
    if kind == "free" and "prices" in spec:
        reader.problem(
            f"{path}.prices", 'a free plan has no prices; remove them or use type = "subscription"'
        )
    if kind == "subscription" and not prices and "prices" not in spec:
        reader.problem(f"{path}.prices", "missing; a subscription needs a monthly and/or yearly price")
    unlimited = reader.flag(spec, path, "unlimited")
    credits = reader.whole(spec, path, "credits_per_period", default=0) or 0
    if unlimited and credits:
        reader.problem(
            f"{path}.credits_per_period", "an unlimited plan has no credits per period; remove one"
        )
    plan_features = spec.get("features", [])
    if not isinstance(plan_features, list) or not all(isinstance(item, str) for item in plan_features):
        reader.problem(f"{path}.features", 'must be a list of feature keys, e.g. ["export"]')
        plan_features = []
    for feature in plan_features:
        if feature not in features:
            reader.problem(
                f"{path}.features", f'unknown feature "{feature}"; declare it as [features.{feature}]'
            )
    bullets = spec.get("bullets", [])
    if not isinstance(bullets, list) or not all(isinstance(item, str) for item in bullets):
        reader.problem(f"{path}.bullets", "must be a list of strings")
        bullets = []
    trial_days = _trial_days(reader, spec, path)
    rollover_cap = reader.whole(spec, path, "rollover_cap", default=0) or 0
    seats = read_seats(reader, spec, path, kind=kind, credits=credits, rollover_cap=rollover_cap)
    plan = Plan(
        key=key,
        name=reader.text(spec, path, "name") or key.capitalize(),
        kind=cast(Literal["free", "subscription"], kind),
        rank=rank,
        description=reader.text(spec, path, "description") or "",
        prices=prices,
        credits_per_period=credits,
        unlimited=unlimited,
        rollover_cap=rollover_cap,
        features=frozenset(plan_features),
        bullets=tuple(bullets),
        popular=reader.flag(spec, path, "popular"),
        trial_days=trial_days,
        allow_promotion_codes=reader.flag(spec, path, "allow_promotion_codes"),
        automatic_tax=reader.flag(spec, path, "automatic_tax"),
        overage=read_overage(reader, spec, plan_key=key, kind=kind, currency=currency,
                             plan_features=plan_features, intervals=list(prices)),
        trial_without_card=read_trial_without_card(reader, spec, path, trial_days=trial_days),
        **seats,
    )
    return with_versions(reader, plan, spec, path, currency=currency, features=features)


def _trial_days(reader: Reader, spec: dict[str, Any], path: str) -> int:
    days = reader.whole(spec, path, "trial_days", default=0) or 0
    if days > 730:  # Stripe's limit on trial_period_days
        reader.problem(f"{path}.trial_days", f"{days} is more than Stripe's 730-day maximum")
        return 0
    return days


def _product(reader: Reader, key: str, spec: dict[str, Any], currency: str) -> OneTimeProduct | None:
    path = f"products.{key}"
    reader.only(
        spec,
        path,
        {
            "name",
            "description",
            "price",
            "accepts_payload",
            "allow_promotion_codes",
            "automatic_tax",
            "currency",
        },
    )
    currency = read_currency(reader, spec, path, currency)
    if "price" not in spec:
        reader.problem(f"{path}.price", 'missing; a one-time product needs a price, e.g. price = "49.00"')
        return None
    price = read_price(reader, spec["price"], f"{path}.price", currency)
    if price is None:
        return None
    return OneTimeProduct(
        key=key,
        name=reader.text(spec, path, "name") or key.capitalize(),
        amount_minor=price.amount_minor,
        currency=currency,
        lookup_key=price.lookup_key or f"coinslot:product:{key}",
        description=reader.text(spec, path, "description") or "",
        accepts_payload=reader.flag(spec, path, "accepts_payload"),
        allow_promotion_codes=reader.flag(spec, path, "allow_promotion_codes"),
        automatic_tax=reader.flag(spec, path, "automatic_tax"),
        price_id_test=price.price_id_test,
        price_id_live=price.price_id_live,
    )


def _pack(reader: Reader, key: str, spec: dict[str, Any], currency: str) -> CreditPack | None:
    path = f"packs.{key}"
    reader.only(
        spec,
        path,
        {
            "type",
            "name",
            "description",
            "credits",
            "price",
            "price_per_credit",
            "minimum_amount",
            "expires_after_days",
            "allow_promotion_codes",
            "automatic_tax",
            "currency",
        },
    )
    kind = spec.get("type", "fixed")
    currency = read_currency(reader, spec, path, currency)
    common: dict[str, Any] = {
        "key": key,
        "name": reader.text(spec, path, "name") or key.capitalize(),
        "currency": currency,
        "description": reader.text(spec, path, "description") or "",
        "expires_after_days": reader.whole(spec, path, "expires_after_days", minimum=1, maximum=_DAYS_MAX),
        "allow_promotion_codes": reader.flag(spec, path, "allow_promotion_codes"),
        "automatic_tax": reader.flag(spec, path, "automatic_tax"),
    }
    if kind == "fixed":
        credits = reader.whole(spec, path, "credits", minimum=1)
        if credits is None:
            reader.problem(f"{path}.credits", "missing; a fixed pack grants a number of credits")
        price = read_price(reader, spec["price"], f"{path}.price", currency) if "price" in spec else None
        if "price" not in spec:
            reader.problem(f"{path}.price", 'missing; a fixed pack needs a price, e.g. price = "9.99"')
        for wrong in ("price_per_credit", "minimum_amount"):
            if wrong in spec:
                reader.problem(f"{path}.{wrong}", 'only for type = "per_credit" packs')
        if credits is None or price is None:
            return None
        return CreditPack(
            kind="fixed",
            credits=credits,
            amount_minor=price.amount_minor,
            lookup_key=price.lookup_key or f"coinslot:pack:{key}",
            price_id_test=price.price_id_test,
            price_id_live=price.price_id_live,
            **common,
        )
    if kind != "per_credit":
        reader.problem(f"{path}.type", f'{shown(kind)} is not a pack type; use "fixed" or "per_credit"')
        return None
    if "price_per_credit" not in spec:
        reader.problem(f"{path}.price_per_credit", 'missing; e.g. price_per_credit = "0.20"')
        return None
    unit = read_price(reader, spec["price_per_credit"], f"{path}.price_per_credit", currency)
    minimum = reader.amount(
        spec.get("minimum_amount", 0), f"{path}.minimum_amount", currency, allow_zero=True
    )
    for wrong in ("credits", "price"):
        if wrong in spec:
            reader.problem(f"{path}.{wrong}", 'only for type = "fixed" packs; the buyer picks the quantity')
    if unit is None:
        return None
    return CreditPack(
        kind="per_credit",
        unit_amount_minor=unit.amount_minor,
        minimum_amount_minor=minimum or 0,
        lookup_key=unit.lookup_key or f"coinslot:pack:{key}",
        price_id_test=unit.price_id_test,
        price_id_live=unit.price_id_live,
        **common,
    )


def _items(reader: Reader, data: dict[str, Any], section: str) -> list[tuple[str, dict[str, Any]]]:
    items = []
    for key, spec in reader.table(data, "", section).items():
        if not _KEY_PATTERN.match(key):
            reader.problem(f"{section}.{key}", "keys use lowercase letters, digits, '_' and '-' (max 64)")
        if not isinstance(spec, dict):
            reader.problem(f"{section}.{key}", f"must be a table: [{section}.{key}]")
            continue
        items.append((key, spec))
    return items


def _check_lookup_keys(reader: Reader, catalog: Catalog) -> None:
    seen: dict[str, str] = {}
    metered = [(price.path, price.lookup_key) for price in overage_prices(catalog)]
    for path, lookup_key in [(price.path, price.lookup_key) for price in catalog_prices(catalog)] + metered:
        if len(lookup_key) > _LOOKUP_KEY_MAX:
            reader.problem(path, f"lookup key is longer than Stripe's {_LOOKUP_KEY_MAX} characters")
        if lookup_key in seen:
            reader.problem(path, f'lookup key "{lookup_key}" is already used by {seen[lookup_key]}')
        seen.setdefault(lookup_key, path)


def _longest_number_line(text: str) -> int:
    lengths = [max((len(run) for run in re.findall(r"\d+", line)), default=0) for line in text.splitlines()]
    return lengths.index(max(lengths)) + 1 if lengths else 1


def _deepest_line(text: str) -> int:
    """The line where the brackets open deepest: where to look for a nesting no parser follows."""
    depth, deepest, line_of_deepest = 0, 0, 1
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            depth += (char in "[{") - (char in "]}")
            if depth > deepest:
                deepest, line_of_deepest = depth, number
    return line_of_deepest


def parse_catalog(text: str, *, source: str = "catalog.toml") -> Catalog:
    """Parse and validate a catalog; raise CatalogInvalid listing every problem."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise CatalogInvalid(
            [CatalogProblem(source, int(line.group(1)) if line else 1, "", f"not valid TOML: {exc}")]
        ) from None
    except ValueError:  # an integer of more digits than Python converts (a ValueError, not TOML's)
        at_line = _longest_number_line(text)
        paths = [path for path, at in LineIndex(text).as_dict().items() if at == at_line]
        raise CatalogInvalid([CatalogProblem(source, at_line, max(paths, key=len, default=""),
                                             "a number of thousands of digits; no catalog number needs "
                                             "that many")]) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise CatalogInvalid([CatalogProblem(source, _deepest_line(text), "",
                                             "arrays or tables nested too deeply to be a catalog")]) from None
    lines = LineIndex(text)
    reader = Reader(source, lines)
    reader.only(data, "", {"catalog", "features", "plans", "products", "packs", "auto_topup", "addons"})
    head = reader.table(data, "", "catalog")
    reader.only(head, "catalog", {"name", "currency", "default_plan"})
    currency = read_currency(reader, head, "catalog", "usd")
    features = _features(reader, data)
    plans = {
        key: _plan(reader, key, spec, rank, currency, features)
        for rank, (key, spec) in enumerate(_items(reader, data, "plans"))
    }
    products = {
        key: item
        for key, spec in _items(reader, data, "products")
        if (item := _product(reader, key, spec, currency)) is not None
    }
    packs = {
        key: pack
        for key, spec in _items(reader, data, "packs")
        if (pack := _pack(reader, key, spec, currency)) is not None
    }
    addons = read_addons(reader, _items(reader, data, "addons"), currency=currency, features=features,
                         plans=plans)
    default_plan = reader.text(head, "catalog", "default_plan")
    free_plans = [plan.key for plan in plans.values() if plan.kind == "free"]
    if default_plan is None:
        default_plan = free_plans[0] if free_plans else ""
        if not free_plans:
            reader.problem(
                "catalog.default_plan",
                'missing; declare a plan with type = "free" for users '
                "without a subscription and name it here",
            )
    elif default_plan not in plans:
        reader.problem("catalog.default_plan", f'"{default_plan}" is not a plan of this catalog')
    elif plans[default_plan].kind != "free":
        reader.problem("catalog.default_plan", f'"{default_plan}" must be a free plan (type = "free")')
    catalog = Catalog(
        name=reader.text(head, "catalog", "name") or Path(source).stem,
        currency=currency,
        default_plan=default_plan,
        plans=plans,
        products=products,
        packs=packs,
        features=features,
        source=source,
        lines=lines.as_dict(),
        auto_topup=read_auto_topup(reader, data, currency=currency, plans=plans, packs=packs),
        addons=addons,
    )
    _check_lookup_keys(reader, catalog)
    if reader.problems:
        raise CatalogInvalid(sorted(reader.problems, key=lambda problem: problem.line))
    return catalog


def load_catalog(path: Path, *, display_name: str | None = None) -> Catalog:
    """Read and parse the catalog file at `path`."""
    source = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogInvalid(
            [CatalogProblem(source, 0, "", "file not found (set COINSLOT_CATALOG_PATH)")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogInvalid([CatalogProblem(source, 0, "", f"cannot read the file: {exc}")]) from None
    return parse_catalog(text, source=source)
