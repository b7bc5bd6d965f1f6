"""The shape of the package, checked from its source: stages import only the stages before them, no
import cycles (imports inside functions and under TYPE_CHECKING count), and client-visible error codes
are written in the errors package only.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pgwsgi"

# The pipeline's order (docs/architecture.md). A module may import its own stage and the stages
# listed before it, never one after it.
LAYERS = (
    ("pgwsgi.version",),
    ("pgwsgi.errors",),
    ("pgwsgi.config",),
    ("pgwsgi.catalog",),
    # The OpenAPI documents are built from catalog objects alone; the root's plan carries their input.
    ("pgwsgi.openapi",),
    ("pgwsgi.auth",),
    ("pgwsgi.api",),
    ("pgwsgi.plan",),
    ("pgwsgi.sql",),
    ("pgwsgi.db",),
    # The security audit reads the catalog with its own queries, beside the pipeline.
    ("pgwsgi.audit",),
    ("pgwsgi.response",),
    # The admin server and the workers' figures: beside the pipeline, used by the http stage.
    ("pgwsgi.admin",),
    ("pgwsgi.http",),
    ("pgwsgi.cli", "pgwsgi.__main__", "pgwsgi"),
)
CODE = re.compile(r"PGRST(\d{3}|X\d\d)")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The pgwsgi modules NAME imports, anywhere in its body."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from pgwsgi.x import y` imports the module pgwsgi.x.y when there is one.
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or with a self-edge (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> int:
    for i, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names if n != "pgwsgi") or module == "pgwsgi":
            if module == "pgwsgi" and "pgwsgi" not in names:
                continue
            return i
    raise AssertionError(f"{module} is in no layer of LAYERS: add it where it belongs in the pipeline")


def test_the_import_graph_is_read_from_the_source() -> None:
    # The checks below are only as good as the graph: it must see the pipeline's real edges.
    assert "pgwsgi.plan" in GRAPH["pgwsgi.http.app"]
    assert "pgwsgi.sql.fragments" in GRAPH["pgwsgi.sql.readtree"]
    assert "pgwsgi.errors.pgrst" in GRAPH["pgwsgi.errors.postgres"]


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"], ["d"]]


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_stage_and_earlier_ones(module: str) -> None:
    later = sorted(m for m in GRAPH[module] if _layer(m) > _layer(module))
    assert later == [], f"{module} imports from later stages"


def test_sql_fragments_import_nothing_else_from_sql() -> None:
    assert {m for m in GRAPH["pgwsgi.sql.fragments"] if m.startswith("pgwsgi.sql")} == set()


def _code_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are not docstrings, with their line numbers."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_error_codes_are_written_in_the_errors_package_only() -> None:
    found = []
    for name, path in MODULES.items():
        if name == "pgwsgi.errors" or name.startswith("pgwsgi.errors."):
            continue
        for line, text in _code_strings(ast.parse(path.read_text())):
            if CODE.search(text):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}")
    assert found == []


def test_each_error_constructor_builds_one_code() -> None:
    tree = ast.parse((PACKAGE / "errors" / "pgrst.py").read_text())
    codes = {
        node.name: {text for _, text in _code_strings(node) if CODE.fullmatch(text)}
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    # Some constructors delegate to another (keys_differ to invalid_body) and write none.
    assert {name: found for name, found in codes.items() if len(found) > 1} == {}
    assert codes["not_singular"] == {"PGRST116"}


def _external_imports(path: Path) -> set[str]:
    """Every module and `module.name` a file imports from outside pgwsgi."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in found if not m.startswith("pgwsgi")}


@pytest.mark.parametrize("stage", ["api", "plan", "sql"])
def test_pure_stages_touch_no_connection_and_no_werkzeug_wrapper(stage: str) -> None:
    # They compute values from values: tested without a server, and a bad request is
    # answered before a pool connection is taken.
    forbidden = ("werkzeug.wrappers", "werkzeug.test", "psycopg_pool", "psycopg.connection")
    found = {
        f"{path.relative_to(PACKAGE.parent)}: {m}"
        for path in sorted((PACKAGE / stage).rglob("*.py"))
        for m in _external_imports(path)
        if m == "psycopg" or m.startswith(forbidden) or m in ("psycopg.Connection", "psycopg.connect", "psycopg.Cursor")
    }
    assert found == set()
