"""Plan versions in the catalog file: the version a plan sells, and the terms of its earlier versions.

    [plans.pro]
    version = "v2"                    # what new subscribers get
    prices = { monthly = "19.99" }
    credits_per_period = 150

    [plans.pro.versions.v1]           # earlier versions, oldest first: their subscribers keep these terms
    prices = { monthly = "14.99" }
    credits_per_period = 100          # a field left out is the current version's

Read here, apart from the parser, so the plan reader stays one screen; the rules a price follows to its
version are `catalog.core.Plan.version_of_price` and `Plan.terms` (docs/catalog.md, "Plan versions").
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from coinslot.catalog.core import DEFAULT_VERSION, Feature, Interval, Plan, PlanVersion
from coinslot.catalog.reader import Reader, shown

__all__ = ["TRIAL_END_BEHAVIOURS", "VERSION_FIELDS", "read_trial_without_card", "with_versions"]

VERSION_FIELDS = {"prices", "credits_per_period", "unlimited", "rollover_cap", "features"}
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
_INTERVALS: dict[str, Interval] = {"monthly": "month", "yearly": "year"}
# Stripe's trial_settings.end_behavior.missing_payment_method, as the file writes it.
TRIAL_END_BEHAVIOURS = ("cancel", "pause", "create_invoice")


def with_versions(reader: Reader, plan: Plan, spec: dict[str, Any], path: str, *, currency: str,
                  features: dict[str, Feature]) -> Plan:
    """`plan` with its `version` and `earlier_versions` read from `spec` (problems recorded)."""
    version = reader.text(spec, path, "version")
    if version is not None and not _LABEL.match(version):
        reader.problem(f"{path}.version", f"{shown(version)} is not a version label; use lowercase letters, "
                                          'digits, "_" and "-", e.g. "v2"')
        version = None
    tables = reader.table(spec, path, "versions")
    if tables and plan.kind == "free":
        reader.problem(f"{path}.versions.{next(iter(tables))}",
                       "a free plan has no versions: nobody pays for it")
        return plan
    unnamed = bool(tables) and "version" not in spec
    if unnamed:
        reader.problem(f"{path}.version", 'missing; name the version sold now, e.g. version = "v2"')
    current = version or DEFAULT_VERSION
    earlier: dict[str, PlanVersion] = {}
    for label, table in tables.items():
        table_path = f"{path}.versions.{label}"
        if not _LABEL.match(label):
            reader.problem(table_path, 'version labels use lowercase letters, digits, "_" and "-", e.g. v1')
        elif label == current and not unnamed:
            reader.problem(table_path, f'"{label}" is the version sold now ({path}.version); list only '
                                       "earlier versions here")
        elif not isinstance(table, dict):
            reader.problem(table_path, f"must be a table: [{table_path}]")
        else:
            earlier[label] = _earlier(reader, plan, table, table_path, label, currency, features)
    return replace(plan, version=current, earlier_versions=earlier)


def _earlier(reader: Reader, plan: Plan, table: dict[str, Any], path: str, label: str, currency: str,
             features: dict[str, Feature]) -> PlanVersion:
    reader.only(table, path, VERSION_FIELDS)
    prices = {interval: price.amount_minor for interval, price in plan.prices.items()}
    if "prices" in table:
        prices = {}
        for name, value in reader.table(table, path, "prices").items():
            interval = _INTERVALS.get(name)
            if interval is None:
                reader.problem(f"{path}.prices.{name}", "unknown interval; use monthly or yearly")
            elif isinstance(value, dict):
                reader.problem(f"{path}.prices.{name}",
                               'an earlier version\'s price is its amount only, e.g. "14.99": its '
                               "subscribers' Stripe prices exist already")
            elif (amount := reader.amount(value, f"{path}.prices.{name}", currency)) is not None:
                prices[interval] = amount
    listed = table.get("features", sorted(plan.features))
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        reader.problem(f"{path}.features", 'must be a list of feature keys, e.g. ["export"]')
        listed = []
    for feature in listed:
        if feature not in features:
            reader.problem(f"{path}.features",
                           f'unknown feature "{feature}"; declare it as [features.{feature}]')
    unlimited = reader.flag(table, path, "unlimited") if "unlimited" in table else plan.unlimited
    credits = reader.whole(table, path, "credits_per_period", default=plan.credits_per_period) or 0
    if unlimited and credits and "credits_per_period" in table:
        reader.problem(f"{path}.credits_per_period",
                       "an unlimited plan has no credits per period; remove one")
    return PlanVersion(
        label=label, prices=prices, currency=currency,
        credits_per_period=0 if unlimited else credits, unlimited=unlimited,
        rollover_cap=reader.whole(table, path, "rollover_cap", default=plan.rollover_cap) or 0,
        features=frozenset(listed),
    )


def read_trial_without_card(
    reader: Reader, spec: dict[str, Any], path: str, *, trial_days: int
) -> str | None:
    """`trial_without_card`: Checkout asks for no card; Stripe does this when the trial ends without one."""
    behaviour = reader.text(spec, path, "trial_without_card")
    if behaviour is None:
        return None
    if behaviour not in TRIAL_END_BEHAVIOURS:
        choices = ", ".join(f'"{each}"' for each in TRIAL_END_BEHAVIOURS)
        reader.problem(f"{path}.trial_without_card",
                       f"{shown(behaviour)} is not what a trial's end may do; use {choices}")
        return None
    if trial_days <= 0:
        reader.problem(f"{path}.trial_without_card", "needs a trial: set trial_days")
        return None
    return behaviour
