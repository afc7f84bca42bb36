"""The catalog's `[auto_topup]` table -> `catalog.core.AutoTopupTerms`, every problem with its line.

    [auto_topup]
    packs = ["credits"]           # the packs a top-up may buy (the customer picks one; first = default)
    credits = 50                  # per_credit packs: credits per top-up (a fixed pack buys its bundle)
    threshold_credits = 10        # a spend or hold leaving fewer credits than this tops up
    monthly_cap_amount = "30.00"  # at most this much charged per calendar month...
    monthly_cap_count = 3         # ...and at most this many top-ups
    plans = ["core", "pro"]       # who may turn it on; absent: every plan
"""

from __future__ import annotations

from typing import Any

from coinslot.catalog.core import AutoTopupTerms, CreditPack, Plan
from coinslot.catalog.reader import Reader, shown

__all__ = ["read_auto_topup"]

_PATH = "auto_topup"
_FIELDS = {"packs", "credits", "threshold_credits", "monthly_cap_amount", "monthly_cap_count", "plans"}
_COUNT_MAX = 1000  # top-ups per month: a cap, not a loophole


def _keys(reader: Reader, spec: dict[str, Any], key: str, known: dict[str, Any], kind: str) -> list[str]:
    value = spec.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        reader.problem(f"{_PATH}.{key}", f'must be a list of {kind} keys, e.g. ["{next(iter(known), kind)}"]')
        return []
    for item in value:
        if item not in known:
            reader.problem(f"{_PATH}.{key}", f'unknown {kind} "{item}"; declare it as [{kind}s.{item}]')
    return [item for item in value if item in known]


def read_auto_topup(
    reader: Reader, data: dict[str, Any], *, currency: str, plans: dict[str, Plan],
    packs: dict[str, CreditPack],
) -> AutoTopupTerms | None:
    """The terms, or None when the file has no `[auto_topup]` (or after a problem, recorded)."""
    if _PATH not in data:
        return None
    spec = reader.table(data, "", _PATH)
    reader.only(spec, _PATH, _FIELDS)
    if not spec.get("packs"):
        reader.problem(f"{_PATH}.packs", 'missing; name the packs a top-up may buy, e.g. packs = ["credits"]')
    pack_keys = _keys(reader, spec, "packs", packs, "pack")
    plan_keys = _keys(reader, spec, "plans", plans, "plan") if "plans" in spec else None
    threshold = reader.whole(spec, _PATH, "threshold_credits", minimum=1)
    if threshold is None:
        reader.problem(f"{_PATH}.threshold_credits", "missing; e.g. threshold_credits = 10")
    count = reader.whole(spec, _PATH, "monthly_cap_count", minimum=1, maximum=_COUNT_MAX)
    if count is None:
        reader.problem(f"{_PATH}.monthly_cap_count", "missing; at most how many top-ups a month, e.g. 3")
    cap = None
    if "monthly_cap_amount" in spec:
        cap = reader.amount(spec["monthly_cap_amount"], f"{_PATH}.monthly_cap_amount", currency)
    else:
        reader.problem(f"{_PATH}.monthly_cap_amount", 'missing; at most how much a month, e.g. "30.00"')
    credits = reader.whole(spec, _PATH, "credits", minimum=1)
    if threshold is None or count is None or cap is None or not pack_keys:
        return None
    terms = AutoTopupTerms(packs=tuple(pack_keys), threshold_credits=threshold, monthly_cap_count=count,
                           monthly_cap_amount_minor=cap, currency=currency, credits=credits,
                           plans=frozenset(plan_keys) if plan_keys is not None else None)
    for key in pack_keys:
        if not _pack_fits(reader, terms, packs[key], currency):
            return None
    if credits is not None and all(packs[key].kind == "fixed" for key in pack_keys):
        reader.problem(f"{_PATH}.credits", "only for per_credit packs; a fixed pack buys its own bundle")
    return terms


def _pack_fits(reader: Reader, terms: AutoTopupTerms, pack: CreditPack, currency: str) -> bool:
    """A pack a top-up can buy within the terms: priced in the cap's currency, its top-up at least the
    pack's minimum and no more than the monthly cap (else no top-up could ever happen)."""
    path = f"{_PATH}.packs"
    if pack.currency != currency:
        reader.problem(path, f'pack "{pack.key}" is priced in {pack.currency.upper()}, the cap in '
                             f"{currency.upper()}")
        return False
    if pack.kind == "per_credit" and terms.credits is None:
        reader.problem(f"{_PATH}.credits", f'missing; pack "{pack.key}" is per credit: say how many '
                                           "credits a top-up buys")
        return False
    _credits, amount_minor = terms.offer(pack)
    if amount_minor < pack.minimum_amount_minor:
        reader.problem(f"{_PATH}.credits", f'{shown(terms.credits)} credits of pack "{pack.key}" cost less '
                                           "than its minimum amount")
        return False
    if amount_minor > terms.monthly_cap_amount_minor:
        reader.problem(f"{_PATH}.monthly_cap_amount", f'is less than one top-up with pack "{pack.key}"')
        return False
    return True
