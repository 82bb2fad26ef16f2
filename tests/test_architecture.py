"""The layout is the architecture: layers only import downwards, no import cycles, small modules.
Walks every import of the product (module level and inside functions) with `ast`."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

TASKS = Path(__file__).resolve().parent.parent / "tasks"
BASE = {"paths", "problems", "yamlio", "files", "report"}
# What each layer may import (besides itself); facts and render are siblings and never meet.
ALLOWED = {
    "base": {"base"},
    "tools": {"base"},
    "settings": {"base", "tools"},
    "render": {"base", "tools", "settings"},
    "facts": {"base", "tools", "settings"},
    "apply": {"base", "tools", "settings", "render", "facts"},
    "commands": {"base", "tools", "settings", "render", "facts", "apply"},
}
MAX_LINES = 300


def modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the product."""
    out = {}
    for file in TASKS.rglob("*.py"):
        parts = file.relative_to(TASKS.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return out


def imported(name: str, file: Path, known: set[str]) -> set[str]:
    """The product modules one module imports (relative imports resolved)."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known and m != name}


def layer(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 1:
        return "root"
    return "base" if parts[1] in BASE else parts[1]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, file, set(known)) for name, file in known.items()}


def test_layers_only_import_downwards(graph):
    wrong = [f"{a} ({layer(a)}) imports {b} ({layer(b)})" for a, deps in graph.items() for b in deps
             if layer(a) != "root" and layer(b) != layer(a) and layer(b) not in ALLOWED[layer(a)]]
    assert wrong == []


def test_no_import_cycles(graph):
    def cycle_from(start, node, trail):
        for nxt in sorted(graph[node]):
            if nxt == start:
                return trail + [nxt]
            if nxt not in trail:
                found = cycle_from(start, nxt, trail + [nxt])
                if found:
                    return found
        return None
    cycles = [" -> ".join(c) for name in graph if (c := cycle_from(name, name, [name]))]
    assert cycles == []


def test_every_layer_is_known_and_every_module_is_small():
    too_long = {n: len(f.read_text().splitlines()) for n, f in modules().items()
                if len(f.read_text().splitlines()) > MAX_LINES}
    assert too_long == {}
    assert {layer(n) for n in modules()} <= set(ALLOWED) | {"root"}
