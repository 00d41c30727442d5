"""Run the installed ``agent-tui`` console script and find this package's fixture files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
FLEET = DATA / "fleet.jsonl"
"""400 lines from ``benchmarks/gen.py --seed 11 --agents 4``: 165 debug, 230 info, 1 warning, 4 error."""
MIXED = DATA / "mixed.jsonl"
"""Other formats, duplicate/escaped keys, hostile escapes, plain text, CRLF, blank and truncated lines."""
FAILED_TRACE = "cdc6f60aa3ec4c509786a1609d7f11c7"
"""A trace in FLEET whose ``casino.place_bet`` span failed."""
AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a run: UTC, no colour overrides inherited from the caller."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TZ"] = "UTC"
    env.update(extra)
    return env


def run(*args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``agent-tui ARGS`` to completion with captured output."""
    return subprocess.run(
        [AGENT_TUI, *args],
        input=stdin,
        capture_output=True,
        env=cli_env(**env),
        timeout=60,
        check=False,
    )
