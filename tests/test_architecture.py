"""The house's layout rules (architecture.md §3), checked over the source tree as text.

Imports are read with `ast`, so a module never has to be imported to be judged, and every
import counts: at the top, inside a function, or under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipelines", "assets", "outputs", "store", "connectors", "sandbox", "benchmarks")
# Who may import whom: each package lists the project packages it may depend on.
ALLOWED: dict[str, set[str]] = {
    "pipelines": {"assets", "outputs", "store", "connectors", "sandbox"},
    "assets": {"outputs", "store", "connectors"},
    "outputs": {"store", "connectors"},
    "store": {"connectors"},
    "connectors": set(),
    "sandbox": set(),
    "benchmarks": {"pipelines", "assets", "outputs", "store", "connectors", "sandbox"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {
        module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
    }


def imported(path: Path, name: str, known: set[str] | None = None) -> Iterator[str]:
    """Every module an import statement in `path` names, relative ones resolved. For
    `from package import name`, the submodule `package.name` when there is one (as grimp and
    import-linter count it), else the package itself."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if known is not None and submodule in known else base


def project_graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    return {
        name: {t for t in imported(path, name, names) if t in names} - {name}
        for name, path in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


GRAPH = project_graph()


def top(name: str) -> str:
    return name.split(".")[0]


def test_the_tree_has_the_folders_the_rules_speak_of() -> None:
    # A rule over an empty or renamed folder would pass for nothing.
    found = {top(name) for name in GRAPH}
    assert found == set(PACKAGES)
    assert len([n for n in GRAPH if top(n) == "assets"]) >= 8


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_one_way(package: str) -> None:
    """pipelines -> assets -> outputs -> store -> connectors; sandbox depends on nothing of
    the pipeline (it imitates the providers, it does not share their parsing)."""
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if top(name) == package
        for target in targets
        if top(target) != package and top(target) not in ALLOWED[package]
    )
    assert wrong == []


def _dagster_imports(name: str) -> list[str]:
    return [
        i for i in imported(modules()[name], name) if i == "dagster" or i.startswith("dagster.")
    ]


def _only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def test_assets_hold_dagster_definitions_only() -> None:
    """Every module under assets/ defines Dagster things (a package marker with nothing but
    its docstring aside); code without Dagster belongs in store/ or outputs/."""
    without = [
        name
        for name, path in modules().items()
        if top(name) == "assets" and not _dagster_imports(name) and not _only_a_docstring(path)
    ]
    assert without == []


def test_store_outputs_and_connectors_import_no_dagster() -> None:
    offenders = {
        name: _dagster_imports(name)
        for name in modules()
        if top(name) in ("store", "outputs", "connectors") and _dagster_imports(name)
    }
    assert offenders == {}


def test_importing_every_library_module_loads_no_dagster() -> None:
    """The same rule at run time: nothing they import pulls Dagster in behind their back."""
    names = [n for n in modules() if top(n) in ("store", "outputs", "connectors")]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
