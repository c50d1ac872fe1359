"""The layer contract of the ``ledger`` package (ADR 0013): every import, read from the source
with :mod:`ast` (function-local, ``TYPE_CHECKING`` and relative imports included), goes down
the layers or stays inside its own package, and no module imports itself back through others.

    people -> app -> storage -> scoring -> log -> core -> top (errors, gcpause, the package)

The CLI (``cli/``, installed as ``ledger.cli``) sits above all of them and is not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ledger"

#: Modules that reach files, SQLite, the clock or the network: never imported by a pure layer.
IO_MODULES = {"sqlite3", "sqlite_utils", "pathlib", "shutil", "tempfile", "io", "time", "socket", "urllib", "http"}
PURE = {"core", "log", "scoring"}

#: Lowest first: a module may import from its own layer's package or from a lower layer.
LAYERS = ("top", "core", "log", "scoring", "storage", "app", "people")
RANK = {name: rank for rank, name in enumerate(LAYERS)}


def modules() -> dict[str, Path]:
    """Every module of the source tree by dotted name (``ledger.core.verify``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def layer(module: str) -> str:
    """``ledger.core.verify`` -> ``core``; the package itself and its top modules -> ``top``."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in RANK:
        return parts[1]
    if len(parts) <= 2 and (len(parts) == 1 or (PACKAGE / f"{parts[1]}.py").is_file()):
        return "top"
    raise AssertionError(f"{module}: in no layer; put it in one of {', '.join(LAYERS[1:])} (ADR 0013)")


def external(path: Path) -> list[tuple[int, str]]:
    """(line, top-level name) of every import of something outside ``ledger``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.partition(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.append((node.lineno, node.module.partition(".")[0]))
    return [(line, name) for line, name in out if name != "ledger"]


def imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[int, str]]:
    """(line, imported module) for every import of ``ledger`` in ``path``, anywhere in it."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from ledger.core import verify`` imports the module ledger.core.verify
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]
        else:
            continue
        for target in targets:
            if target == "ledger" or target.startswith("ledger."):
                while target not in known:
                    target = target.rpartition(".")[0]
                out.append((node.lineno, target))
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: {t for _, t in imports(m, p, known) if t != m} for m, p in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_module_is_in_a_layer() -> None:
    for module in modules():
        assert layer(module) in RANK


def test_imports_go_down_the_layers() -> None:
    known = modules()
    wrong = []
    for module, path in known.items():
        for line, target in imports(module, path, known):
            low, high = layer(target), layer(module)
            if low != high and RANK[low] > RANK[high]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {high} module {module} imports {low} module {target}")
    assert not wrong, "imports against the layers (ADR 0013):\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_pure_layers_reach_no_files_sqlite_clock_or_network() -> None:
    wrong = [f"{path.relative_to(ROOT)}:{line}: imports {name}"
             for module, path in modules().items() if layer(module) in PURE
             for line, name in external(path) if name in IO_MODULES]
    assert not wrong, "a pure layer imports I/O (ADR 0013):\n" + "\n".join(wrong)


# -- the contract's checks can fail ------------------------------------------------------------


def test_a_function_local_import_upwards_is_found(tmp_path: Path) -> None:
    module = tmp_path / "verify.py"
    module.write_text("def f():\n    from ..storage.store import LedgerStore\n    from ..errors import LedgerError\n")
    known = modules()
    found = imports("ledger.core.verify", module, known)
    assert found == [(2, "ledger.storage.store"), (3, "ledger.errors")]
    assert RANK[layer(found[0][1])] > RANK[layer("ledger.core.verify")]


def test_an_io_import_is_found(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os.path\nfrom sqlite3 import connect\nfrom . import canonical\n")
    assert external(module) == [(1, "os"), (2, "sqlite3")]


def test_a_cycle_is_found() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


@pytest.mark.parametrize("module, expected", [
    ("ledger", "top"), ("ledger.errors", "top"), ("ledger.core.canonical", "core"),
    ("ledger.log.tiles", "log"), ("ledger.people.demo_data", "people"),
])
def test_layer_names(module: str, expected: str) -> None:
    assert layer(module) == expected
