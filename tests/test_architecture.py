"""The package floors of docs/architecture.md, checked over the source tree with ``ast``.

Every import counts, including those inside functions: a lazy import must not hide a
cycle. A package may import only from packages on lower floors (and from itself); no
two modules may import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "dosewise"

FLOORS: list[set[str]] = [
    {"errors", "lazy"},
    {"units", "image", "device"},
    {"io"},
    {"physics", "models", "metrics"},
    {"data"},
    {"analysis"},
    {"config", "report"},
    {"checkpoint", "simulate"},
    {"training", "infer", "shipped"},
    {"workflows"},
    {"experiments", "serve"},
    {"cli", "hyperspy", "napari"},
]
"""Bottom to top; keep in step with the table in docs/architecture.md."""


def _modules() -> dict[str, Path]:
    modules = {}
    for path in SOURCE.rglob("*.py"):
        parts = ["dosewise", *path.relative_to(SOURCE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The dosewise modules ``name`` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _floor_of(package: str) -> int:
    for index, floor in enumerate(FLOORS):
        if package in floor:
            return index
    raise AssertionError(f"dosewise.{package} is on no floor: add it to FLOORS and docs/architecture.md")


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_packages_import_only_from_lower_floors() -> None:
    wrong = []
    for module, targets in _graph().items():
        source = _package(module)
        if source is None:  # the top-level facade (dosewise/__init__.py) may use anything
            continue
        for target in targets:
            destination = _package(target)
            if destination is None:
                wrong.append(f"{module} imports the facade 'dosewise'; import the module instead")
            elif destination != source and _floor_of(destination) >= _floor_of(source):
                wrong.append(f"{module} -> {target} (floor {_floor_of(source)} -> {_floor_of(destination)})")
    assert wrong == []


def test_every_package_is_on_a_floor() -> None:
    packages = {p for p in map(_package, _modules()) if p is not None}
    for package in packages:
        _floor_of(package)


def test_docs_architecture_lists_the_same_floors() -> None:
    text = (SOURCE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented: dict[int, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 2 and cells[0].isdigit():
            documented.setdefault(int(cells[0]), set()).update(
                name.strip(" `") for name in cells[1].split(","))
    assert documented == dict(enumerate(FLOORS))


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text("def f():\n    from dosewise.io import read_image\n", encoding="utf-8")
    assert _imports("dosewise.x", path, {"dosewise.io", "dosewise.x"}) == {"dosewise.io"}
