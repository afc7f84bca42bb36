"""Docs that show code from the examples the tests run: a fenced block after `<!-- snippet: PATH#NAME -->`
must be the lines between `snippet:NAME` and `snippet:end` in that file (the whole file without `#NAME`);
a JSON block after `<!-- answer: STEP -->` must be part of what a run answered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Shown", "answers_shown", "is_part_of", "region", "snippets_shown"]

REPO = Path(__file__).resolve().parents[2]
_MARKED = re.compile(r"<!-- (snippet|answer): (\S+?) -->\n```\w*\n(.*?)```", re.DOTALL)
# A value shown as "..." in a doc stands for one that differs every run (an id, a URL, a time).
ANY = "..."


@dataclass(frozen=True)
class Shown:
    doc: str
    reference: str
    text: str


def _marked(doc: Path, kind: str) -> list[Shown]:
    text = doc.read_text(encoding="utf-8")
    return [Shown(doc.name, reference, body) for found_kind, reference, body in _MARKED.findall(text)
            if found_kind == kind]


def snippets_shown(doc: Path) -> list[Shown]:
    return _marked(doc, "snippet")


def answers_shown(doc: Path) -> list[Shown]:
    return _marked(doc, "answer")


def region(reference: str) -> str:
    """The text `PATH#NAME` points at, marker lines excluded, indentation common to all lines removed."""
    path, _, name = reference.partition("#")
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    if name:
        marker = re.compile(rf"snippet:{re.escape(name)}\b")
        start = next((i for i, line in enumerate(lines) if marker.search(line)), None)
        assert start is not None, f"no `snippet:{name}` marker in {path}"
        end = next(i for i in range(start + 1, len(lines)) if "snippet:end" in lines[i])
        lines = lines[start + 1:end]
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[indent:] for line in lines).strip("\n") + "\n"


def is_part_of(shown: Any, actual: Any) -> bool:
    """Every key shown is in the answer with the value shown ("..." matches anything); a list shows its
    first items."""
    if shown == ANY:
        return True
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(key in actual and is_part_of(value, actual[key])
                                                for key, value in shown.items())
    if isinstance(shown, list):
        return isinstance(actual, list) and len(shown) <= len(actual) and all(
            is_part_of(item, actual[index]) for index, item in enumerate(shown))
    return bool(shown == actual and type(shown) is type(actual))
