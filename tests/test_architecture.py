"""The shape of src/crisismap, checked: layers, no import cycles, short files, declared APIs.

A newcomer should be able to read the package bottom-up: leaves (vocabulary and problems)
import nothing above them, the steps of the analysis use only leaves and never each other,
composition chains the steps, and the shells (the dashboard and the CLI) sit on top.

Every ``import crisismap...`` and ``from crisismap... import ...`` counts, wherever it is in
a module (inside functions and ``TYPE_CHECKING`` blocks too). ``from crisismap.pkg import
name`` where ``name`` is a submodule counts as importing that submodule. A *unit* is a
top-level module (``pipeline``) or package (``records``); the layering and cycle checks run
on units, and a second cycle check runs on the modules inside each package. The graph is
read with ``ast`` only; just the ``__all__`` check imports the packages. The root
``crisismap/__init__`` (version, GDAL guard, lazy public API) is in no layer; modules
inside may take from it only what it defines itself.
"""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "crisismap"
MAX_LINES = 800

LEAVES = {
    "errors",
    "schema",
    "problems",
    "escape",
    "parallel",
    "files",
    "access",
    "i18n",
    "bilingual",
}
STEPS = {"records", "boundaries", "join", "aggregate", "publish", "display", "basemap"}
COMPOSITION = {
    "export",
    "pipeline",
    "store",
    "distributed",
    "layers",
    "report",
    "guarded",
    "prepared",
    "record_table",
    "releases",
    "fit",
    "trends",
    "choices",  # the dashboard's view-model, split by topic
    "session",
    "page",
}
SHELLS = {"dashboard", "cli"}
LAYER_OF = {
    **dict.fromkeys(LEAVES, "leaf"),
    **dict.fromkeys(STEPS, "step"),
    **dict.fromkeys(COMPOSITION, "composition"),
    **dict.fromkeys(SHELLS, "shell"),
}
# What each layer may import besides its own unit.
MAY_IMPORT = {
    "leaf": {"leaf"},
    "step": {"leaf"},
    "composition": {"leaf", "step", "composition"},
    "shell": {"leaf", "step", "composition"},
}
# Third-party packages only one unit may import (ruff's TID251 says the same for lint).
ONLY_IN = {"folium": {"layers"}}
NOWHERE = {"streamlit": "only app.py may import Streamlit", "streamlit_folium": "it is Streamlit"}


@dataclass(frozen=True)
class Edge:
    """One import statement from one crisismap module of another."""

    source: str  # dotted module name, e.g. crisismap.records.read
    target: str
    line: int

    def where(self) -> str:
        return f"{relative(self.source)}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__.py``)."""
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def relative(name: str) -> str:
    return str(modules()[name].relative_to(ROOT))


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def unit(name: str) -> str | None:
    """``crisismap.records.read`` → ``records``; the root package itself → None."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def package_of(name: str) -> str:
    """The package a module lives in (a package's ``__init__`` lives in itself)."""
    return name if is_package(name) else name.rpartition(".")[0]


def known(dotted: str) -> str:
    """The longest prefix of ``dotted`` that is a module of ours (``a.b.C`` → ``a.b``)."""
    while dotted not in modules():
        dotted = dotted.rpartition(".")[0]
    return dotted


@cache
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(encoding="utf-8"), filename=str(modules()[name]))


def imported(name: str) -> list[tuple[str, int]]:
    """Every module (ours or third-party, dotted) that ``name`` imports, with the line."""
    found = []
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1
                anchor = package_of(name).split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule if submodule in modules() else base, node.lineno))
    return found


@cache
def edges() -> tuple[Edge, ...]:
    """Every import of a crisismap module by a crisismap module (the root package aside:
    importing any submodule runs it anyway, so an import of it says nothing)."""
    out = []
    for source in modules():
        for target, line in imported(source):
            if target.split(".")[0] == PACKAGE and unit(known(target)) is not None:
                out.append(Edge(source, known(target), line))
    return tuple(dict.fromkeys(out))  # one edge per statement, not per imported name


def unit_edges() -> dict[tuple[str, str], list[Edge]]:
    """Imports between different units, grouped by (importing unit, imported unit)."""
    grouped = defaultdict(list)
    for edge in edges():
        a, b = unit(edge.source), unit(edge.target)
        if a is not None and a != b:
            grouped[a, b].append(edge)
    return grouped


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of nodes that import each other round a circle (strongly connected
    components with more than one node, or a node importing itself; Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def shortest_cycle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """The shortest closed path through the group's first node, by breadth-first search."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, set()) & set(group)):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected group has one


def describe(group: list[str], graph: dict[str, set[str]], evidence: dict) -> str:
    """One circle of the group with the import statements that close it."""
    cycle = shortest_cycle(graph, group)
    lines = [" -> ".join(cycle)]
    if len(group) > len(cycle) - 1:
        lines.append(f"    (one of the circles among {', '.join(group)})")
    for a, b in zip(cycle, cycle[1:], strict=False):
        lines += [f"    {a} -> {b}: {e.where()}" for e in evidence[a, b]]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the checks


def fail_if(problems: list[str], title: str) -> None:
    """Fail with just the list (the offending modules and lines), no traceback."""
    if problems:
        pytest.fail(f"{title}:\n" + "\n".join(problems), pytrace=False)


def test_the_graph_sees_the_package_and_finds_cycles():
    """A guard for the checks below: they are only as good as the graph they read."""
    assert "crisismap.pipeline" in modules()
    assert any(unit(e.source) == "pipeline" for e in edges()), "no import read from pipeline"
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a", "b"}, "d": set(), "e": {"e"}}
    assert circles(graph) == [["a", "b", "c"], ["e"]]
    assert shortest_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_every_unit_has_a_layer():
    units = defaultdict(list)
    for name in modules():
        if unit(name) is not None:
            units[unit(name)].append(relative(name))
    fail_if(
        [f"  {u}: {', '.join(files)}" for u, files in sorted(units.items()) if u not in LAYER_OF],
        "units in no layer (add each to LEAVES, STEPS, COMPOSITION or SHELLS in "
        "tests/test_architecture.py)",
    )


def cycles_in(evidence: dict[tuple[str, str], list[Edge]]) -> list[str]:
    graph = defaultdict(set)
    for a, b in evidence:
        graph[a].add(b)
    return [describe(group, graph, evidence) for group in circles(graph)]


def test_no_import_cycle_between_units():
    fail_if(cycles_in(unit_edges()), "import cycles between units")


def test_no_import_cycle_inside_a_package():
    """A package's ``__init__`` importing its submodules is fine; a submodule importing
    its own package's ``__init__`` closes a circle (import siblings by full path)."""
    evidence = defaultdict(list)
    for edge in edges():
        if edge.source != edge.target and unit(edge.source) == unit(edge.target) is not None:
            evidence[edge.source, edge.target].append(edge)
    fail_if(cycles_in(evidence), "import cycles inside a package")


def test_each_layer_imports_only_the_layers_below():
    wrong = []
    for (a, b), found in sorted(unit_edges().items()):
        if a not in LAYER_OF or b not in LAYER_OF:
            continue  # reported by test_every_unit_has_a_layer
        if LAYER_OF[b] not in MAY_IMPORT[LAYER_OF[a]]:
            allowed = ", ".join(sorted(MAY_IMPORT[LAYER_OF[a]]))
            wrong.append(
                f"  {a} ({LAYER_OF[a]}; may import {allowed}) imports {b} ({LAYER_OF[b]}):"
            )
            wrong += [f"    {e.where()}" for e in found]
    fail_if(wrong, "imports against the layering")


def test_no_source_file_is_over_800_lines():
    sizes = {
        relative(n): len(p.read_text(encoding="utf-8").splitlines()) for n, p in modules().items()
    }
    fail_if(
        [f"  {path}: {n} lines" for path, n in sorted(sizes.items()) if n > MAX_LINES],
        f"files over {MAX_LINES} lines (split each by job)",
    )


def test_only_layers_imports_folium_and_nothing_imports_streamlit():
    wrong = []
    for name in modules():
        for target, line in imported(name):
            top = target.split(".")[0]
            where = f"  {relative(name)}:{line} imports {target}"
            if top in NOWHERE:
                wrong.append(f"{where} ({NOWHERE[top]})")
            elif top in ONLY_IN and unit(name) not in ONLY_IN[top]:
                wrong.append(f"{where} (only {', '.join(sorted(ONLY_IN[top]))} may)")
    fail_if(wrong, "third-party imports in the wrong place")


def packages() -> list[str]:
    """Every package, the root ``crisismap`` included (its names are imported lazily)."""
    return [n for n in modules() if is_package(n)]


def declares_all(name: str) -> bool:
    """Whether the module assigns ``__all__`` at its top level."""
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        for node in tree(name).body
    )


@pytest.mark.parametrize("package", packages())
def test_each_package_declares_its_api_and_every_name_resolves(package):
    if not declares_all(package):
        pytest.fail(f"{relative(package)} has no __all__ (declare its public API)", pytrace=False)
    loaded = importlib.import_module(package)
    names = list(loaded.__all__)
    duplicated = sorted({n for n in names if names.count(n) > 1})
    missing = [n for n in names if not hasattr(loaded, n)]
    fail_if(
        [f"  {n} is listed twice" for n in duplicated]
        + [f"  {n} is listed but {package} does not define it" for n in missing],
        f"{relative(package)}: __all__ is wrong",
    )


def test_no_module_imports_through_the_root_package():
    """``crisismap/__init__`` hands out names of other modules lazily; a module that took
    one from there would hide a dependency from the checks above."""
    defined = set()
    for node in tree(PACKAGE).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
    wrong = []
    for name in modules():
        for node in ast.walk(tree(name)):
            if isinstance(node, ast.ImportFrom) and node.module == PACKAGE and not node.level:
                wrong += [
                    f"  {relative(name)}:{node.lineno} imports {alias.name} from {PACKAGE}"
                    for alias in node.names
                    if alias.name not in defined and f"{PACKAGE}.{alias.name}" not in modules()
                ]
    fail_if(wrong, "names taken from the root package; import them from their own module")
