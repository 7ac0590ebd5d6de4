"""The shape of the code base (issue 18), checked so that it stays: layers that import one way,
no domain cycles, files a reader can hold, no test-only code shipped, one clock.

Layers, lowest first (a module imports only from its own layer or below):
  0 core, config
  1 db, security (but login), settings
  2 org, subjects, tasks, documents, jobs, login (security.auth, security.service), the API's plumbing
  3 the domains: supervision, monitoring, checkins, command, ingestion
  4 routes and screens (every api.py, ui.py), the UI shell, main, cli, demo, the table registry
"""

from __future__ import annotations

import ast
import itertools
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "zhijiao"

# Longest prefix wins.
LAYERS = {
    "core": 0, "config": 0, "__init__": 0,
    "db": 1, "security": 1, "settings": 1,
    "org": 2, "subjects": 2, "tasks": 2, "documents": 2, "jobs": 2, "api": 2,
    "security.auth": 2, "security.service": 2,
    "supervision": 3, "monitoring": 3, "checkins": 3, "command": 3, "ingestion": 3,
    "ui": 4, "main": 4, "cli": 4, "demo": 4, "server": 4, "__main__": 4, "doctor": 4,
    "db.models": 4, "db.migrations": 4,  # the registry of every table, for metadata and Alembic
    "security.keys": 4,  # key rotation re-encrypts every table's columns: it needs the registry
}
ROUTE_MODULES = {"api", "ui", "forms", "phone_api", "kiosk_api"}  # a domain's routes and screens (and *_ui): layer 4
DOMAINS = {name for name, layer in LAYERS.items() if layer == 3}
MAX_LINES = 700
LONG_FILES_ALLOWED = {"ingestion/protocols/jt808/codec.py"}  # one table of the standard's messages


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, ast.Module]:
    return {_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))}


def layer(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "api" and (parts[-1] in ROUTE_MODULES or parts[-1].endswith("_ui")) and len(parts) > 1:
        return 4
    for n in range(len(parts), 0, -1):
        if (key := ".".join(parts[:n])) in LAYERS:
            return LAYERS[key]
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def _imports(tree: ast.Module) -> set[str]:
    """Every zhijiao module imported anywhere in the file, inside functions too."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("zhijiao."):
                base = node.module.removeprefix("zhijiao.")
                # `from zhijiao.x import y` may name a module y or a name in x: take the module if it is one
                out.update(f"{base}.{a.name}" if f"{base}.{a.name}" in _modules() else base for a in node.names)
            elif node.module == "zhijiao":
                out.update(a.name if a.name in _modules() else "__init__" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.removeprefix("zhijiao.") for a in node.names if a.name.startswith("zhijiao."))
    return out


def test_imports_run_down_the_layers() -> None:
    upward = sorted(
        f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})"
        for module, tree in _modules().items() for target in _imports(tree) if layer(target) > layer(module)
    )
    assert upward == []


def test_domains_do_not_import_each_other_both_ways() -> None:
    edges: set[tuple[str, str]] = set()
    for module, tree in _modules().items():
        source = module.split(".")[0]
        if source not in DOMAINS or layer(module) == 4:
            continue
        edges.update((source, t.split(".")[0]) for t in _imports(tree) if t.split(".")[0] in DOMAINS - {source})
    both_ways = sorted(f"{a} <-> {b}" for a, b in itertools.combinations(sorted(DOMAINS), 2)
                       if (a, b) in edges and (b, a) in edges)
    assert both_ways == []


def test_no_file_is_too_long_to_read() -> None:
    long = sorted(
        f"{p.relative_to(SRC)}: {n} lines" for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and p.relative_to(SRC).as_posix() not in LONG_FILES_ALLOWED
    )
    assert long == []


def test_no_test_code_ships_in_the_package() -> None:
    shipped = sorted(
        module for module, tree in _modules().items()
        if module.rsplit(".", 1)[-1].endswith(("_dev", "_test", "testing"))
        or any(isinstance(n, (ast.Import, ast.ImportFrom)) and _top(n) in {"pytest", "tests"} for n in ast.walk(tree))
    )
    assert shipped == []


def _top(node: ast.Import | ast.ImportFrom) -> str:
    name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
    return (name or "").split(".")[0]


def test_one_clock() -> None:
    """Domain times are compared with ``core.clock`` (frozen in tests), never the wall clock;
    ``time.monotonic()`` and ``loop.time()`` measure intervals and stay."""
    wall = sorted(
        f"{module}:{n.lineno}" for module, tree in _modules().items() for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "time"
        and isinstance(n.func.value, ast.Name) and n.func.value.id == "time"
    )
    assert wall == []


@pytest.mark.parametrize("module", ["supervision.api", "ui.layout", "main", "ingestion.pipeline", "db.models"])
def test_layers_of_known_modules(module: str) -> None:
    expected = {"supervision.api": 4, "ui.layout": 4, "main": 4, "ingestion.pipeline": 3, "db.models": 4}
    assert layer(module) == expected[module]
