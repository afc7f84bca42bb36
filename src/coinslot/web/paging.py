"""Keyset pages of the console's lists: newest first by id, with a link to the older rows.

A page reads one row more than it shows: that row proves an older page exists without counting the
table (a count of a million events is a scan). The older page starts below the last id shown
(`?before=<id>`), so a deep page reads the index as the first one does, and rows arriving meanwhile
never shift a page. The REST lists page the same way (`before` and `has_more`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, Protocol, TypeVar
from urllib.parse import urlencode

from fastapi import Query

from coinslot.limits import BIGINT_MAX

__all__ = ["BeforeId", "NewestFirst", "newest_first"]

# `?before=<id>`: where an older page starts. A number outside BIGINT is a 422, not a driver overflow.
BeforeId = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=_HasId)
# Unbounded: mypy checks a class's type arguments before it sees a model's `id` as an int.
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NewestFirst(Generic[T]):
    """One page of a list and the links around it (paths with their query, for `url()`)."""

    rows: Sequence[T]
    older_href: str | None  # the next page, older rows; None on the last page
    newest_href: str | None  # back to the first page; None on it


def newest_first(read: Callable[[int], Sequence[RowT]], *, limit: int, before: int | None, path: str,
                 query: Mapping[str, str]) -> NewestFirst[RowT]:
    """Call `read(how_many)` (newest first, below `before` when given) and shape the page.

    `query` is the list's filters (empty values are left out of the links), kept on every link so
    that paging a filtered list stays on that filter."""
    found = read(limit + 1)
    rows = found[:limit]
    older = rows[-1].id if len(found) > limit else None
    return NewestFirst(rows,
                       older_href=_href(path, query, before=older) if older is not None else None,
                       newest_href=_href(path, query, before=None) if before is not None else None)


def _href(path: str, query: Mapping[str, str], *, before: int | None) -> str:
    params = {key: value for key, value in query.items() if value}
    if before is not None:
        params["before"] = str(before)
    return path + ("?" + urlencode(params) if params else "")
