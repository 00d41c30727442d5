"""Dependencies point one way (DESIGN §2), read from every module's source, imports inside functions too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import agent_tui

ROOT = Path(agent_tui.__file__).resolve().parent
ALLOWED: dict[str, frozenset[str]] = {
    "schema": frozenset(),
    "batch": frozenset(),
    "log": frozenset({"log", "schema"}),
    "sources": frozenset({"sources", "batch", "schema"}),
    "model": frozenset({"model", "batch", "schema"}),
    "serve": frozenset({"serve", "model", "sources", "batch", "schema", "log"}),
}
"""What each layer of ``agent_tui`` may import from ``agent_tui`` (``cli`` and ``tui`` sit on top)."""
UI_LIBRARIES = frozenset({"textual", "rich"})


def _modules(layer: str) -> list[Path]:
    package = ROOT / layer
    return sorted(package.rglob("*.py")) if package.is_dir() else [ROOT / f"{layer}.py"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, *, package: bool = False) -> Iterator[tuple[int, str]]:
    """What ``source`` imports, anywhere (functions, ``TYPE_CHECKING`` blocks), made absolute.

    ``from m import n`` gives ``m.n``: the module ``m.n`` when there is one, else a name in ``m``.

    Args:
        source: the module's text.
        module: its dotted name (relative imports resolve against it).
        package: it is a package's ``__init__``.
    """
    here = module.split(".") if package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            for alias in node.names:
                # ``from pkg import sub`` imports the module ``pkg.sub`` when there is one.
                yield node.lineno, f"{module}.{alias.name}"


def _imports_of(path: Path) -> Iterator[tuple[int, str]]:
    return imported(path.read_text(encoding="utf-8"), _module_name(path), package=path.name == "__init__.py")


def violations(layer: str) -> list[str]:
    """``file:line imports module`` for each import that breaks ``layer``'s rule."""
    found = []
    for path in _modules(layer):
        for line, module in _imports_of(path):
            top = module.split(".")
            own = top[0] == "agent_tui" and len(top) > 1 and top[1] not in ALLOWED[layer]
            if own or top[0] in UI_LIBRARIES:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_is_below_it(layer: str) -> None:
    """No module of the layer imports a layer above it or a UI library, not even inside a function."""
    assert _modules(layer), f"no modules found for {layer}"
    assert violations(layer) == []


def test_the_reader_sees_imports_inside_functions_and_relative_imports() -> None:
    """The checker finds imports in function bodies and resolves relative ones (so they cannot hide)."""
    source = "def f():\n    from ..sources import base\n    import textual.app\n    from . import store\n"
    assert {name for _, name in imported(source, "agent_tui.model.probe")} == {
        "agent_tui.sources.base",
        "textual.app",
        "agent_tui.model.store",
    }
    assert {name for _, name in imported("from .base import X\n", "agent_tui.sources", package=True)} == {
        "agent_tui.sources.base.X"
    }


def _module_graph() -> dict[str, set[str]]:
    """Each ``agent_tui`` module → the ``agent_tui`` modules it imports."""
    paths = {_module_name(path): path for path in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets = set()
        for _, module in _imports_of(path):
            parts = module.split(".")
            while parts and ".".join(parts) not in paths:
                parts.pop()
            if parts:
                targets.add(".".join(parts))
        graph[name] = targets - {name}
    return graph


def test_no_two_modules_import_each_other() -> None:
    """No pair of modules imports each other (the Loki handler and its sender used to)."""
    graph = _module_graph()
    mutual = sorted(
        f"{a} <-> {b}" for a, targets in graph.items() for b in targets if a < b and a in graph.get(b, ())
    )
    assert mutual == []
    assert "agent_tui.log.loki.sender" in graph["agent_tui.log.loki.handler"]


def test_the_tui_never_imports_the_command_line() -> None:
    """``tui`` sits beside ``cli``, under it: the TUI's modules import no ``agent_tui.cli`` module."""
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules("tui")
        for line, module in _imports_of(path)
        if module.startswith("agent_tui.cli")
    ]
    assert found == []
