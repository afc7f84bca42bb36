"""Rules of the layout no import contract can state, checked on the source: SQL lives in repositories,
and no module is empty."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "coinslot"

# Where SQL may be built and sent: repositories, and the foundations below the domains.
SQL_HOMES = ("repository.py",)
SQL_FOUNDATIONS = {"db.py", "metrics.py"}
SQL_FOUNDATION_DIRS = {"models", "migrations"}
# Statement builders, and a session sending SQL. (`Session` itself is what a service receives.)
SQL_NAMES = {"select", "insert", "update", "delete", "func", "text", "exists", "bindparam", "or_", "and_"}
SESSION_CALLS = {"execute", "scalar", "scalars", "get", "connection"}


def modules() -> list[Path]:
    return sorted(path for path in SRC.rglob("*.py") if "__pycache__" not in path.parts)


def may_hold_sql(path: Path) -> bool:
    relative = path.relative_to(SRC)
    return (path.name in SQL_HOMES or str(relative) in SQL_FOUNDATIONS
            or relative.parts[0] in SQL_FOUNDATION_DIRS)


def sql_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [f"imports {alias.name}" for alias in node.names if alias.name in SQL_NAMES]
            if node.module.startswith("sqlalchemy.dialects"):
                found.append(f"imports {node.module}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in SESSION_CALLS and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "session"):
            found.append(f"session.{node.func.attr}() at line {node.lineno}")
    return found


def test_sql_is_written_only_in_repositories() -> None:
    offenders = {str(path.relative_to(SRC)): sql for path in modules()
                 if not may_hold_sql(path) and (sql := sql_in(path))}
    assert offenders == {}


def test_no_module_is_empty() -> None:
    """A module with nothing but a docstring and imports (an `api.py` with no route) is noise to a reader."""
    empty = []
    for path in modules():
        if path.name == "__init__.py":
            continue
        body = [node for node in ast.parse(path.read_text()).body
                if not isinstance(node, ast.Import | ast.ImportFrom)
                and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
        if not body:
            empty.append(str(path.relative_to(SRC)))
    assert empty == []
