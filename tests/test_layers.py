"""The import graph of the packages points downwards only (docs/architecture.md, "Layers").

Every ``.py`` module of the project's packages is read with ``ast`` (nothing is imported):
every ``import`` and ``from ... import`` counts, at module level or inside a function, and
so does ``importlib.import_module("literal")``. The package graph must have no cycle, and
each package may import only the packages below it:

    cli → democity → app (app.py, views/) → ui → config → analytics → ingest → grids → store

(``cli`` and ``democity`` sit on top: the demo city is built through the import side and
the command line reaches every layer.) The failure message prints the whole graph with the
file and line of each offending import.
"""

from __future__ import annotations

import ast
import shutil
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Package of each top-level name: directories, and the two top-level scripts.
PACKAGES = {"app": "app", "views": "app", "ui": "ui", "config": "config",
            "analytics": "analytics", "ingest": "ingest", "grids": "grids", "store": "store",
            "democity": "democity", "cli": "cli"}
#: Layers from the top; a package may import only packages listed after it.
ORDER = ("cli", "democity", "app", "ui", "config", "analytics", "ingest", "grids", "store")
#: The rules of issue 13 spelled out (implied by ORDER, checked on their own for clear messages).
ALLOWED = {
    "store": set(),
    "grids": {"store"},
    "ingest": {"grids", "store"},
    "analytics": {"ingest", "grids", "store"},
}
NOT_IMPORTED_BY = {"config": {"analytics", "ingest", "grids", "store"}}


def _modules(root: Path) -> list[tuple[str, Path]]:
    """(package, file) of every module of the project's packages under ``root``."""
    out = []
    for name, pkg in PACKAGES.items():
        script = root / f"{name}.py"
        if script.is_file():
            out.append((pkg, script))
        folder = root / name
        if folder.is_dir():
            out += [(pkg, p) for p in sorted(folder.rglob("*.py"))]
    return out


def _imported(tree: ast.AST) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in ``tree``; relative ones as ''."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(("" if node.level else node.module or "", node.lineno))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id == "import_module"))):
            found.append((node.args[0].value, node.lineno))
    return found


def package_graph(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(importer, imported) package → the places ('file:line module') of those imports."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pkg, path in _modules(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module, line in _imported(tree):
            target = PACKAGES.get(module.split(".")[0])
            if target is not None and target != pkg:
                edges[(pkg, target)].append(f"{path.relative_to(root)}:{line} {module}")
    return dict(edges)


def _cycles(edges) -> list[list[str]]:
    """One shortest cycle through each node that reaches itself, highest node first."""
    succ = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    cycles, seen = [], set()
    for start in sorted(succ, key=lambda n: (ORDER.index(n) if n in ORDER else -1, n)):
        paths, queue = {start: [start]}, [start]
        while queue:                         # breadth first: the shortest way back
            node = queue.pop(0)
            for nxt in sorted(succ[node]):
                if nxt == start:
                    cyc = paths[node] + [start]
                    if not set(cyc) <= seen:
                        cycles.append(cyc)
                        seen |= set(cyc)
                    queue = []
                    break
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    queue.append(nxt)
    return cycles


def problems(edges) -> list[str]:
    """The broken rules, one line each with the offending imports."""
    out = []
    for (a, b), where in sorted(edges.items()):
        bad = []
        if a in ALLOWED and b not in ALLOWED[a]:
            bad.append(f"{a} may import only {', '.join(sorted(ALLOWED[a]))}" if ALLOWED[a]
                       else f"{a} may import no package of ours")
        if a in NOT_IMPORTED_BY.get(b, ()):
            bad.append(f"{b} must not be imported by {a}")
        if ORDER.index(b) < ORDER.index(a):
            bad.append(f"upward arrow: {b} is above {a}")
        if bad:
            out.append(f"{a} -> {b}: {'; '.join(bad)} ({', '.join(where)})")
    for cyc in _cycles(edges):
        out.append("cycle: " + " -> ".join(cyc))
    return out


def render(edges) -> str:
    """The graph as text: one line per package, its imports below it in ORDER."""
    lines = []
    for a in ORDER:
        targets = [b for b in ORDER if (a, b) in edges]
        lines.append(f"{a:>9} -> {', '.join(targets) if targets else '(nothing of ours)'}")
    return "\n".join(lines)


def test_imports_point_downwards_only():
    edges = package_graph()
    graph = render(edges)
    print(graph)
    found = problems(edges)
    assert not found, "\n".join(["import rules broken:", *found, "", "package graph:", graph])


def test_every_module_belongs_to_a_known_package():
    """A new top-level package would escape the check: it must be placed in ORDER first."""
    ignored = {"tests", "bench", "data", "docs", "static"}
    tops = {p.name for p in ROOT.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name not in ignored
            and any(p.rglob("*.py"))}
    tops |= {p.stem for p in ROOT.glob("*.py")}
    assert tops <= set(PACKAGES), f"not placed in a layer: {sorted(tops - set(PACKAGES))}"
    assert set(PACKAGES.values()) == set(ORDER)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in PACKAGES:
        if (ROOT / f"{name}.py").is_file():
            root.mkdir(exist_ok=True)
            shutil.copy(ROOT / f"{name}.py", root / f"{name}.py")
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_an_import_inside_a_function_of_store_is_caught(tmp_path):
    root = _copy(tmp_path)
    assert not problems(package_graph(root))
    (root / "store" / "probe.py").write_text(
        "def f():\n    from analytics import scoring\n    return scoring\n", encoding="utf-8")
    found = problems(package_graph(root))
    assert any(p.startswith("store -> analytics") and "store/probe.py:2" in p for p in found)
    assert any(p.startswith("cycle: ") and "store" in p for p in found), found


def test_config_below_analytics_and_a_cycle_are_caught(tmp_path):
    root = _copy(tmp_path)
    (root / "analytics" / "probe.py").write_text(
        "import importlib\n\n\ndef f():\n    return importlib.import_module('config.settings')\n",
        encoding="utf-8")
    (root / "grids" / "probe.py").write_text("from ingest import errors\n", encoding="utf-8")
    found = problems(package_graph(root))
    assert any(p.startswith("analytics -> config") and "must not be imported by analytics" in p
               for p in found), found
    assert any(p.startswith("grids -> ingest") for p in found), found
    assert "cycle: ingest -> grids -> ingest" in found, found


def test_grids_is_pure_geometry():
    """grids/ neither opens nor queries the database: reading boundaries from it and
    writing records back is the import side's (ingest/placement.py, ingest/boundaries.py)."""
    found = [f"{p.relative_to(ROOT)}:{line}: {name}"
             for pkg, p in _modules(ROOT) if pkg == "grids"
             for name, line in _imported(ast.parse(p.read_text(encoding="utf-8")))
             if name.split(".")[0] in ("duckdb", "store")]
    assert not found, "grids/ touches the database:\n" + "\n".join(found)
