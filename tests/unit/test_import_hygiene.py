"""The headless core never imports Textual or Rich."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_loading_plain_files_needs_no_event_loop(tmp_path: Path) -> None:
    """``stats``/``trace`` on plain files load them without importing asyncio, which would cost ~6 MB
    resident in the process and again in every parse worker it forks."""
    log = tmp_path / "a.jsonl"
    log.write_bytes(b'{"ts":"2026-03-04T00:00:00Z","level":"error","event":"e","trace_id":"t1"}\n' * 3)
    code = f"""
import sys
from agent_tui.cli.common import load_model
model = load_model([{str(log)!r}])
print(len(model.store), "asyncio" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["3", "False"]
