"""The import structure: one-way layers and no package cycles (ARCHITECTURE in README §Layers).

Every import counts, also those under `if TYPE_CHECKING:` and inside functions: a lower layer
that names an upper one cannot be imported, tested or reused without it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "vehicles", "roadside", "scenarios")

#: Bottom to top. A module may import its own layer and the ones below, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim",),  # the package root: __version__ only
    ("sim.spec",),  # frozen scenario specs, units, the expectation grammar
    ("sim.core",),  # engine, World and its protocols, RNG tree, roads, signals, tables
    ("sim.radio",),  # sidelink physics and MAC: nodes and packets, not cars
    ("sim.metrics",),  # recorders and KPI arithmetic
    ("vehicles",),  # fleet, mobility, OBU
    ("vehicles.apps",),  # day-one V2X applications
    ("roadside",),  # RSUs, backhaul, edge, faults
    ("sim.io",),  # observers and run-directory files
    ("sim.scenario", "sim.sumo"),  # loading, merging, building a World
    ("sim.runner",),
    ("sim.calibration", "sim.sweep", "sim.viz"),
    ("sim.cli", "scenarios"),
)


def layer_of(module: str) -> int:
    """Index in LAYERS of the longest matching prefix."""
    best, best_len = -1, -1
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best_len:
                best, best_len = i, len(name)
    if best < 0:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return best


def group_of(module: str) -> str:
    return max((n for names in LAYERS for n in names
                if module == n or module.startswith(n + ".")), key=len)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) of every import in the file, relative ones resolved."""
    mod = module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
    return [(t, n) for t, n in out if t.split(".")[0] in PACKAGES]


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def edges() -> list[tuple[str, str, str]]:
    """(importing module, imported module, where) for every project-internal import."""
    out = []
    for path in source_files():
        mod = module_name(path)
        for target, line in imports(path):
            out.append((mod, target, f"{path.relative_to(ROOT)}:{line}"))
    return out


def test_the_layer_table_names_real_packages() -> None:
    for names in LAYERS:
        for name in names:
            if name in ("sim.sumo",):  # reserved for the SUMO adapter
                continue
            path = ROOT / name.replace(".", "/")
            assert path.is_dir() or path.with_suffix(".py").is_file(), name


def test_no_import_goes_up_a_layer() -> None:
    up = [f"{where}: {src} (layer {layer_of(src)}) imports {dst} (layer {layer_of(dst)})"
          for src, dst, where in edges() if layer_of(dst) > layer_of(src)]
    assert not up, "imports up the layer order:\n" + "\n".join(up)


def test_packages_have_no_import_cycles() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst, _ in edges():
        a, b = group_of(src), group_of(dst)
        if a != b:
            graph[a].add(b)
    # Tarjan would do; the graph has a dozen nodes, so a DFS for a back edge is enough.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt])
                return True
            if nxt not in state and visit(nxt, path + [node]):
                return True
        state[node] = 2
        return False

    for n in sorted(graph):
        if n not in state and visit(n, []):
            break
    assert not cycle, "package cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("src, dst, expected", [
    ("sim.radio.medium", "vehicles.obu", True),
    ("vehicles.obu", "sim.radio.nodes", False),
    ("sim.spec.schema", "sim.metrics.expectations", True),
    ("sim.io.summary_observer", "sim.scenario.build", True),
    ("sim.viz.live", "sim.runner", False),
])
def test_the_checker_sees_an_upward_import(src: str, dst: str, expected: bool) -> None:
    assert (layer_of(dst) > layer_of(src)) is expected
