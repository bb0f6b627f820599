"""The import structure of ``dsr``: no module imports itself through others (no cycle), and the
layers import downwards only, so a lower layer can be read, tested and changed alone.

The graph is read from the source with ``ast``: every ``import`` statement counts, at module level,
inside functions and under ``TYPE_CHECKING`` alike.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dsr"

#: Lowest first. A module may import its own layer and the layers below it, never one above.
#: A top-level module or package missing here counts as the top layer (an application on top of
#: the library): it may import anything, and nothing listed here may import it.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "dsr",
        "dsr.errors",
        "dsr.limits",
        "dsr.locks",
        "dsr.staging",
        "dsr.fileio",
        "dsr.layout",
        "dsr.registry",
        "dsr.progress",
        "dsr.model_loading",
    ),
    ("dsr.prompts", "dsr.scoring", "dsr.media"),
    ("dsr.generation", "dsr.tracking", "dsr.paper_exact", "dsr.cards"),
    ("dsr.builders", "dsr.hub"),
    ("dsr.evaluation", "dsr.judge", "dsr.report"),
    ("dsr.training",),
    ("dsr.demo", "dsr.cli", "dsr.__main__"),
)


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name → file of every module of the package (``dsr.x`` for ``dsr/x/__init__.py``)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _nearest(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` if it is a module, else its nearest enclosing module
    (``dsr.a.b.func`` → ``dsr.a.b``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Absolute names an import statement refers to (``from m import x`` gives ``m.x``)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            anchor = package[: len(package) - node.level + 1]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        yield base
        yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the modules of the package it imports."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _imported(node, name, path.name == "__init__.py"):
                if target == "dsr" or target.startswith("dsr."):
                    found = _nearest(target, modules)
                    targets |= {found} if found else set()
        graph[name] = targets - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (``[a, b, ..., a]``) if there is any, by depth-first search."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of the entry that is ``module`` or encloses it (the root ``dsr``
    only stands for its own ``__init__``); ``len(LAYERS)`` for a module of no listed entry."""
    for index, names in enumerate(LAYERS):
        if any(
            module == name or (name != "dsr" and module.startswith(name + ".")) for name in names
        ):
            return index
    return len(LAYERS)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import of a higher layer by a lower one."""
    return sorted(
        f"{src} -> {dst}"
        for src, targets in graph.items()
        for dst in targets
        if layer_of(dst) > layer_of(src)
    )


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_lower_layers_never_import_higher_ones() -> None:
    assert upward_imports(import_graph()) == []


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("dsr.scoring", "dsr.builders"),
        ("dsr.media", "dsr.cards"),
        ("dsr.prompts", "dsr.training"),
        ("dsr.cards", "dsr.builders"),
        ("dsr.evaluation", "dsr.training"),
        ("dsr.judge", "dsr.training"),
        ("dsr.report", "dsr.training"),
    ],
)
def test_named_lower_packages_import_none_of_the_higher(low: str, high: str) -> None:
    graph = import_graph()
    wrong = [
        f"{src} -> {dst}"
        for src, targets in graph.items()
        if src == low or src.startswith(low + ".")
        for dst in targets
        if dst == high or dst.startswith(high + ".")
    ]
    assert wrong == []


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "dsr" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "dsr"


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from dsr.b import x\n",
            "b.py": "def x():\n    from dsr import a\n",
            "c.py": "import dsr.a\n",
        },
    )
    graph = import_graph(root)
    assert graph == {
        "dsr": set(),
        "dsr.a": {"dsr.b"},
        "dsr.b": {"dsr", "dsr.a"},
        "dsr.c": {"dsr.a"},
    }
    assert find_cycle(graph) == ["dsr.a", "dsr.b", "dsr.a"]


def test_relative_imports_and_type_checking_imports_count(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "__init__.py": "",
            "p/__init__.py": "from .q import y\n",
            "p/q.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..r import z\n"
            ),
            "r.py": "",
        },
    )
    assert import_graph(root) == {
        "dsr": set(),
        "dsr.p": {"dsr.p.q"},
        "dsr.p.q": {"dsr.r"},
        "dsr.r": set(),
    }
    assert find_cycle(import_graph(root)) is None


def test_an_upward_import_is_reported() -> None:
    graph = {
        "dsr.scoring.tracks": {"dsr.builders.folder", "dsr.errors"},
        "dsr.cli.score": {"dsr.scoring"},
    }
    assert upward_imports(graph) == ["dsr.scoring.tracks -> dsr.builders.folder"]
    assert (
        layer_of("dsr"),
        layer_of("dsr.layout"),
        layer_of("dsr.builders.folder"),
        layer_of("dsr.mystery"),
    ) == (0, 0, 3, len(LAYERS))
