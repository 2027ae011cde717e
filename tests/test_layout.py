"""The house in order: no module imports one that imports it back, and no lower layer imports a
higher one (README "Where things are"). Read from the code's own import statements."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hangdoi", "kiosk", "counter", "display", "drivers")
# Each layer may import those after it, never those before it.
LAYERS = [
    ("the entry points", ("hangdoi.cli", "hangdoi.wsgi", "hangdoi.serving", "hangdoi.app", "hangdoi.fixtures")),
    ("the pages", ("kiosk", "counter", "display")),
    ("the web layer", ("hangdoi.web",)),
    ("the services", ("hangdoi.services",)),
    ("the engine", ("hangdoi.engine",)),
    ("hardware", ("drivers",)),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    modules = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")
               if "migrations" not in p.parts}
    found = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                candidates = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in modules and c != name}
        found[name] = targets
    return found


def layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def test_no_lower_layer_imports_a_higher_one():
    upward = [(a, b) for a, targets in imports().items() for b in targets
              if layer(a) is not None and layer(b) is not None and layer(b) < layer(a)]
    assert upward == []


def test_no_module_imports_itself_back():
    graph, cycles = imports(), []
    # A package's face (__init__) that only hands on its modules' names is no cycle of code.
    graph = {a: {b for b in targets if not a.startswith(b + ".")} for a, targets in graph.items()}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    assert cycles == []
