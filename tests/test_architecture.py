"""The architecture of docs/architecture.md holds: imports point down the layers of the
import-linter contract in pyproject.toml, no module imports itself back through others, no
module is over 450 lines, and the committed package graph matches the code."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 450


def test_import_linter_contracts_are_kept():
    """An upward import or a cycle between sibling packages fails here, naming both modules."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of size > 1 (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(edges.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_strongly_connected_finds_a_planted_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert strongly_connected(edges) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_any_two_modules():
    """Module by module, function-level imports included (grimp reads every import)."""
    graph = grimp.build_graph("cnnlab", include_external_packages=False)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert strongly_connected(edges) == []


def test_no_module_is_longer_than_450_lines():
    lengths = {str(p.relative_to(ROOT)): len(p.read_text().splitlines())
               for p in (ROOT / "src" / "cnnlab").rglob("*.py")}
    assert {p: n for p, n in lengths.items() if n > MAX_LINES} == {}


def test_the_committed_package_graph_matches_the_code():
    """Regenerate with `python docs/package_graph.py` when packages or their imports change."""
    script = ROOT / "docs" / "package_graph.py"
    spec = importlib.util.spec_from_file_location("package_graph", script)
    package_graph = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package_graph)
    expected = package_graph.to_dot(package_graph.contract_layers(), package_graph.package_edges())
    committed = (ROOT / "docs" / "img" / "package-graph.dot").read_text()
    assert committed == expected, "the package graph changed: run `python docs/package_graph.py`"
