"""The headless core never imports Textual or Rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = ["agent_tui.log", "agent_tui.model", "agent_tui.sources", "agent_tui.schema", "agent_tui.batch"]


@pytest.mark.parametrize("package", CORE)
def test_core_package_does_not_import_ui_libraries(package: str) -> None:
    """Importing a core package (and its submodules) in a fresh interpreter loads no UI library."""
    code = f"""
import importlib, pkgutil, sys
pkg = importlib.import_module({package!r})
for info in pkgutil.walk_packages(getattr(pkg, "__path__", []), {package!r} + "."):
    importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print(",".join(bad))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"{package} pulled in UI modules: {out}"
