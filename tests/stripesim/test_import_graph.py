"""stripesim's modules import one another without a circle (issue 14).

Every import grimp reads counts: those inside functions too (a deferred import that dodges
a circle at run time is still a circle in the design) and those under TYPE_CHECKING.
pyproject.toml's import contracts hold the same rule for `lint-imports` (and the layering);
this test names the circle, module by module with line numbers, when there is one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import pairwise

import grimp

PACKAGE = "stripesim"


def _imported(graph: grimp.ImportGraph, module: str, within: set[str]) -> list[str]:
    return sorted(m for m in graph.find_modules_directly_imported_by(module) if m in within)


def circles(graph: grimp.ImportGraph, modules: Iterable[str]) -> list[list[str]]:
    """Groups of two or more modules that reach one another (strongly connected
    components, Tarjan's algorithm without recursion), each sorted, sorted by first module."""
    within = set(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(within):
        if root in index:
            continue
        work = [(root, iter(_imported(graph, root, within)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
            elif target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                on_stack.add(target)
                work.append((target, iter(_imported(graph, target, within))))
            elif target in on_stack:
                low[module] = min(low[module], index[target])
    return sorted(found)


def one_circle(graph: grimp.ImportGraph, group: list[str]) -> list[str]:
    """The shortest way from the group's first module back to itself."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for target in _imported(graph, module, members):
            if target == start:
                path = [module]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = module
                queue.append(target)
    raise AssertionError(f"{group} is not a circle")


def describe(graph: grimp.ImportGraph, path: list[str]) -> str:
    """`a -> b (l.3) -> a (l.40)`: each arrow with the line(s) of the importing module."""
    parts = [path[0]]
    for importer, imported in pairwise(path):
        lines = sorted({d["line_number"] for d in graph.get_import_details(
            importer=importer, imported=imported)})
        parts.append(f"{imported} (l.{', '.join(map(str, lines))})")
    return " -> ".join(parts)


def test_stripesim_modules_import_each_other_without_a_circle() -> None:
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    modules = {m for m in graph.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")}
    assert len(modules) > 50, f"read only {sorted(modules)}: is {PACKAGE} on the path?"
    found = circles(graph, modules)
    assert not found, "stripesim has import circles (break each by moving what both sides " \
        "need into a lower module, or with a hook set up from above):\n" + "\n".join(
            describe(graph, one_circle(graph, group)) for group in found)


def test_a_circle_hidden_in_a_function_is_found_and_named() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b", line_number=3,
                     line_contents="from . import b")
    graph.add_import(importer="pkg.b", imported="pkg.c", line_number=5,
                     line_contents="from .c import run")
    # The deferred import, inside a function, that closes the circle.
    graph.add_import(importer="pkg.c", imported="pkg.a", line_number=40,
                     line_contents="    from .a import start")
    graph.add_import(importer="pkg.d", imported="pkg.a", line_number=2,
                     line_contents="from . import a")

    found = circles(graph, graph.modules)

    assert found == [["pkg.a", "pkg.b", "pkg.c"]]
    assert describe(graph, one_circle(graph, found[0])) == \
        "pkg.a -> pkg.b (l.3) -> pkg.c (l.5) -> pkg.a (l.40)"


def test_modules_that_only_share_a_lower_one_make_no_circle() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.prices", "pkg.products", "pkg.product_objects"):
        graph.add_module(name)
    graph.add_import(importer="pkg.products", imported="pkg.prices")
    graph.add_import(importer="pkg.products", imported="pkg.product_objects")
    graph.add_import(importer="pkg.prices", imported="pkg.product_objects")

    assert circles(graph, graph.modules) == []
