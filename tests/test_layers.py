"""The import rules of ../shared/DESIGN.md ("Layers and who may import whom"), checked by walking the code.

Every `import station.…` in `station/` is an arrow from one layer to another. An arrow the
table does not allow, a cycle between packages, or Qt below `ui/` fails here, naming the file.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from support.paths import REPO

STATION = REPO / "station"

# Importable by every layer but `domain`: the package's own metadata, logging, paths, the shared backoff.
BASE = {"station", "logs", "paths", "backoff"}
# layer -> the layers it may import (DESIGN.md's table); `app`, `cli` and `bench` compose everything.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "bus": {"domain"},
    "queries": {"domain"},
    "secrets": {"domain"},
    "store": {"domain"},
    "oms": {"domain", "bus", "store", "secrets"},
    "brokers": {"domain", "bus", "secrets", "queries", "queries_brokers"},  # queries_brokers: brokers' section
    "marketdata": {"domain", "bus"},
    "engine": {"domain", "bus"},
    # a backtest composes the live pipeline: the dispatcher builds the paper broker as app.py does
    "research": {"domain", "bus", "store", "engine", "marketdata", "oms", "brokers.paper", "brokers.dispatcher",
                 "brokers.registry", "analysis"},
    "analysis": {"domain", "store"},
    "web": {"domain", "bus", "queries", "oms.inbox", "secrets"},
    "notify": {"domain", "bus", "secrets", "queries"},
    "ui": {"domain", "bus", "queries", "secrets", "marketdata", "analysis", "research"},
}
COMPOSERS = {"app", "cli", "bench", "selfcheck", "__main__"}  # selfcheck checks every library is installed
# Arrows still to be removed by the restructuring under way (issue 12): this list only shrinks.
# An entry that no longer occurs fails the test too, so it is struck off as soon as it is fixed.
KNOWN = set("""
""".strip().splitlines())
QT = ("PySide6", "pyqtgraph", "qasync")


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "station"


def modules() -> dict[str, Path]:
    found = {}
    for path in STATION.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, relative ones resolved."""
    out = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.append((base, node.lineno))
            out += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return out


def allowed(source: str, target: str) -> bool:
    src, dst = layer(source), layer(target)
    if src == dst or src in COMPOSERS or dst in BASE:
        return True
    if src == "ui" and target.startswith("station.ui"):
        return True
    if source in ("station.ui.launch",) and dst == "app":
        return True
    rules = ALLOWED.get(src)
    if rules is None:  # base modules import only the domain
        return dst == "domain"
    sub = ".".join(target.split(".")[1:3])
    return dst in rules or sub in rules


def arrows():
    table = modules()
    for module, path in sorted(table.items()):
        for target, line in imports(path, module):
            if target.startswith("station.") and target in table or target == "station":
                yield module, target, path, line


def test_no_arrow_the_design_forbids():
    found = {f"{path.relative_to(REPO)}: {layer(module)} -> {target}"
             for module, target, path, line in arrows() if not allowed(module, target)}
    assert not found - KNOWN, "imports DESIGN.md forbids:\n" + "\n".join(sorted(found - KNOWN))
    assert not KNOWN - found, "fixed, strike off KNOWN:\n" + "\n".join(sorted(KNOWN - found))


def test_no_cycle_between_packages():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, target, _, _ in arrows():
        a, b = layer(module), layer(target)
        if a != b and a not in COMPOSERS and b not in BASE:
            graph[a].add(b)
    cycles = []

    def visit(node, trail):
        for nxt in sorted(graph[node]):
            if nxt in trail:
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif len(trail) < len(graph) + 1:
                visit(nxt, trail + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, "package cycles:\n" + "\n".join(sorted(set(cycles)))


def test_qt_only_in_ui_and_the_composers():
    bad = []
    for module, path in modules().items():
        if layer(module) == "ui" or layer(module) in COMPOSERS:
            continue
        for target, line in imports(path, module):
            if target.split(".")[0] in QT:
                bad.append(f"{path.relative_to(REPO)}:{line}: {target}")
    assert not bad, "Qt below ui/:\n" + "\n".join(bad)
