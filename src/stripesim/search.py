"""Stripe's search endpoints (`GET /v1/customers/search?query=...`).

Query language subset: clauses `field:"v"` (exact, case-insensitive),
`field~"sub"` (substring, at least 3 characters), `metadata["k"]:"v"`,
`field>5` / `<` / `>=` / `<=` on numbers, `field:null`, a leading `-` to
negate, joined by all-AND or all-OR (no mixing, no parentheses, as Stripe).

    return search(call, call.store.all("customer"), fields={"email", "name", "created"})
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ParameterInvalid
from .pagination import list_object
from .params import get_int, require

if TYPE_CHECKING:
    from .routing import Call

__all__ = ["Clause", "parse_query", "search"]

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?
        (?P<field>metadata\[(?P<q>["'])(?P<key>[^"']+)(?P=q)\]|[a-z_][a-z0-9_.]*)
        \s*(?P<op>>=|<=|:|~|>|<)\s*
        (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|null)\s*""",
    re.VERBOSE,
)
_JOIN = re.compile(r"\s+(AND|OR)\s+")

Clause = tuple[bool, str, str | None, str, Any]  # negated, field, metadata key, op, value


def parse_query(query: str, fields: set[str]) -> tuple[str, list[Clause]]:
    """("AND"|"OR", clauses); raises 400 on syntax Stripe would reject."""
    parts = _JOIN.split(query.strip())
    clauses_text, joins = parts[0::2], set(parts[1::2])
    if len(joins) > 1:
        raise _invalid("You cannot combine AND and OR in the same query.")
    if len(clauses_text) > 10:
        raise _invalid("A query may have at most 10 clauses.")
    clauses = [_parse_clause(text, fields) for text in clauses_text]
    return (joins.pop() if joins else "AND"), clauses


def _parse_clause(text: str, fields: set[str]) -> Clause:
    match = _CLAUSE.fullmatch(text)
    if match is None:
        raise _invalid(f"Invalid query syntax near: {text!r}")
    field, key, op, raw = match["field"], match["key"], match["op"], match["value"]
    name = "metadata" if key is not None else field
    if name not in fields:
        raise _invalid(f"Field '{field}' is not supported in this search.")
    value: Any
    if raw == "null":
        value = None
    elif raw[0] in "\"'":
        value = re.sub(r"\\(.)", r"\1", raw[1:-1])
    else:
        value = float(raw) if "." in raw else int(raw)
    if op == "~" and (not isinstance(value, str) or len(value) < 3):
        raise _invalid("Substring (~) search needs a string of at least 3 characters.")
    if op in "<>=" and op != ":" and not isinstance(value, (int, float)):
        raise _invalid(f"Comparison {op} needs a number.")
    return bool(match["neg"]), name, key, op, value


def _invalid(message: str) -> ParameterInvalid:
    return ParameterInvalid("query", message)


def _field_value(obj: dict[str, Any], field: str, key: str | None) -> Any:
    if key is not None:
        return (obj.get("metadata") or {}).get(key)
    node: Any = obj
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _matches(obj: dict[str, Any], clause: Clause) -> bool:
    negated, field, key, op, value = clause
    actual = _field_value(obj, field, key)
    result: bool
    if op == ":":
        if value is None:
            result = actual is None
        elif isinstance(value, str):
            result = isinstance(actual, str) and actual.lower() == value.lower()
        else:
            result = actual == value
    elif op == "~":
        result = isinstance(actual, str) and str(value).lower() in actual.lower()
    else:
        compare: dict[str, Callable[[Any, Any], bool]] = {
            ">": lambda a, b: a > b, "<": lambda a, b: a < b,
            ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
        }
        result = isinstance(actual, (int, float)) and compare[op](actual, value)
    return result != negated


def search(call: Call, items: list[dict[str, Any]], *, fields: set[str],
           url: str | None = None) -> dict[str, Any]:
    """A `search_result` page; `page` is the opaque `next_page` of the previous one."""
    params = call.params
    query = str(require(params, "query"))
    join, clauses = parse_query(query, fields)
    combine = all if join == "AND" else any
    found = [obj for obj in reversed(items) if combine(_matches(obj, c) for c in clauses)]
    limit = get_int(params, "limit", 10, minimum=1, maximum=100) or 10
    start = _page_offset(params.get("page"))
    page = found[start:start + limit]
    has_more = start + limit < len(found)
    result = list_object(page, url or call.path, has_more)
    result["object"] = "search_result"
    result["next_page"] = f"page_{start + limit}" if has_more else None
    if "total_count" in (params.get("expand") or []):
        result["total_count"] = len(found)
    return result


def _page_offset(page: Any) -> int:
    if page is None or page == "":
        return 0
    if isinstance(page, str) and page.startswith("page_") and page[5:].isdigit():
        return int(page[5:])
    raise ParameterInvalid("page", f"Invalid page token: {page}")
