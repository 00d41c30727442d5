"""Hatch build hook: compile agent-tui's C scanner (``agent_tui.model.parsing._rowscan``) beside its source.

Without a C compiler the package still installs and works: the parser then maps every line in Python.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/agent_tui/model/parsing/_rowscan.c")
FLAGS = ("-O2", "-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra")


def compile_native(root: Path) -> Path | None:
    """Compile the scanner for the running interpreter; None (and a warning) when that fails."""
    source = root / SOURCE
    target = source.with_name("_rowscan" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    compiler = shlex.split(os.environ.get("CC") or str(sysconfig.get_config_var("CC") or "cc"))
    include = sysconfig.get_paths()["include"]
    command = [*compiler, *FLAGS, f"-I{include}", str(source), "-o", str(target)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        print(f"agent-tui: C scanner not built, lines are parsed in Python: {detail}", file=sys.stderr)
        return None
    return target


class NativeHook(BuildHookInterface[Any]):
    """Builds the scanner into the wheel (an editable install finds it in ``src/``)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile, and mark the wheel as platform-specific when it holds the scanner."""
        if self.target_name != "wheel":
            return
        built = compile_native(Path(self.root))
        if built is None:
            return
        if version != "editable":
            build_data["force_include"][str(built)] = f"agent_tui/model/parsing/{built.name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
