"""Where a dotted field path is written in a TOML text.

`tomllib` returns plain dicts without positions, so error messages would have
no line numbers. This scanner reads the text once and records, for every table
header and key it sees, the line it sits on; `line_of("plans.pro.prices.monthly")`
then answers the most precise line known (falling back to the enclosing table).
It only needs to be right for files that tomllib already accepted.
"""

from __future__ import annotations

import re

__all__ = ["LineIndex"]

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=(.*)$")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=")


def _split_dotted(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


class LineIndex:
    """Dotted path -> 1-based line number, built from the raw TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[str, int] = {}
        table: list[str] = []
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                table = _split_dotted(header.group(1))
                self._remember(table, number)
                continue
            key = _KEY.match(line)
            if key is None:
                continue
            path = [*table, *_split_dotted(key.group(1))]
            self._remember(path, number)
            value = key.group(2)
            if "{" in value:
                # Inline tables: `prices = { monthly = "4.99" }` puts `prices.monthly` on this line.
                for inner in _INLINE_KEY.finditer(value[value.index("{") :]):
                    self._remember([*path, inner.group(1).strip("\"'")], number)

    def _remember(self, path: list[str], number: int) -> None:
        self._lines.setdefault(".".join(path), number)

    def line_of(self, path: str) -> int:
        """The line of `path`, or of its nearest enclosing table; 1 when nothing matches."""
        parts = path.split(".")
        while parts:
            found = self._lines.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return 1

    def as_dict(self) -> dict[str, int]:
        return dict(self._lines)
