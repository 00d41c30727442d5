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
    """Every module ``source`` imports, anywhere (functions, ``TYPE_CHECKING`` blocks), made absolute.

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
            yield node.lineno, ".".join([*base, node.module] if node.module else base)


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
        "agent_tui.sources",
        "textual.app",
        "agent_tui.model",
    }
    assert {name for _, name in imported("from .base import X\n", "agent_tui.sources", package=True)} == {
        "agent_tui.sources.base"
    }
