"""The code shown in docs/nextjs.md and docs/rest.md is the code the example tests run, line for line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.snippets import Shown, region, snippets_shown

DOCS = Path(__file__).resolve().parents[2] / "docs"
SHOWN = [shown for doc in ("nextjs.md", "rest.md") for shown in snippets_shown(DOCS / doc)]


def test_the_docs_show_snippets() -> None:
    assert len([shown for shown in SHOWN if shown.doc == "rest.md"]) >= 12
    assert len([shown for shown in SHOWN if shown.doc == "nextjs.md"]) >= 6


@pytest.mark.parametrize("shown", SHOWN, ids=[f"{shown.doc}:{shown.reference}" for shown in SHOWN])
def test_a_shown_snippet_is_the_example_code(shown: Shown) -> None:
    assert shown.text == region(shown.reference), (
        f"{shown.doc} shows {shown.reference} differently from the file: copy it again")
