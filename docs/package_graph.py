"""Draw cnnlab's package graph from the code: ``python docs/package_graph.py``.

Reads every import of every module (function-level imports too, through grimp, the library
behind import-linter), groups modules by their package under ``cnnlab`` (``cnnlab.layers.conv``
counts as ``layers``), and writes ``docs/img/package-graph.dot`` (the graph as text: one edge
per package that imports another, labelled with the number of importing modules) and, when
Graphviz's ``dot`` is installed, ``docs/img/package-graph.svg``. Rows follow the layers of the
import-linter contract in ``pyproject.toml``, highest first, so every arrow points down; the
edges of the Keras/TensorFlow compatibility namespaces are dashed.
``tests/test_architecture.py`` fails when the committed ``.dot`` no longer matches the code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import grimp
import tomllib

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "package-graph"
ALIAS_NAMESPACES = {"keras", "tf", "backend"}  # drawn dashed and light: they only re-export


def contract_layers() -> list[list[str]]:
    """The layers of pyproject's import-linter contract, highest first, as package names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["type"] == "layers")
    return [[name.strip().removeprefix("cnnlab.") for name in layer.replace(":", "|").split("|")]
            for layer in contract["layers"]]


def package_of(module: str) -> str | None:
    """``cnnlab.layers.conv`` -> ``layers``; the root package and ``__main__`` -> ``None``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else None


def package_edges() -> Counter[tuple[str, str]]:
    """``(importer, imported)`` package pairs, counted by importing module."""
    graph = grimp.build_graph("cnnlab", include_external_packages=False)
    edges: Counter[tuple[str, str]] = Counter()
    for module in graph.modules:
        source = package_of(module)
        targets = {package_of(m) for m in graph.find_modules_directly_imported_by(module)}
        for target in targets - {source, None}:
            if source is not None:
                edges[(source, target)] += 1
    return edges


def to_dot(layers: list[list[str]], edges: Counter[tuple[str, str]]) -> str:
    """The graph in Graphviz's language: one row per layer, edges labelled with counts."""
    lines = ["digraph cnnlab {", "  rankdir=TB; nodesep=0.25; ranksep=0.45;",
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", '
             'fontname="Helvetica", fontsize=11];',
             '  edge [color="#7a8aa6", arrowsize=0.6, fontsize=8, fontcolor="#7a8aa6"];']
    for row in layers:
        lines.append("  { rank=same; " + " ".join(f'"{name}";' for name in row) + " }")
    for upper, lower in zip(layers[:-1], layers[1:], strict=True):  # rows in contract order
        lines.append(f'  "{upper[0]}" -> "{lower[0]}" [style=invis];')
    for (source, target), count in sorted(edges.items()):
        alias = ' style=dashed, color="#c3cad6"' if source in ALIAS_NAMESPACES else ""
        lines.append(f'  "{source}" -> "{target}" [label="{count}"{alias}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    dot_text = to_dot(contract_layers(), package_edges())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".dot").write_text(dot_text)
    if shutil.which("dot") is None:
        print("wrote the .dot file; install Graphviz's dot for the .svg", file=sys.stderr)
        return 0
    svg = subprocess.run(["dot", "-Tsvg"], input=dot_text, capture_output=True, text=True,
                         check=True).stdout
    OUT.with_suffix(".svg").write_text(svg)
    print(f"wrote {OUT.with_suffix('.dot')} and {OUT.with_suffix('.svg')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
