"""Run the installed ``agent-tui`` console script and find this package's fixture files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

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


def custom_log(path: Path) -> Path:
    """20 lines whose real severity is in ``sev``, message in ``text``, trace in ``tid``.

    Each line also carries a decoy ``"level":"info"`` right after ``ts`` (the byte-level level scan's
    shape) and ``"event":"decoy"``, so a path that reads the usual keys gives a different answer.
    """
    rows = [
        {
            "ts": f"2026-03-04T00:00:{i:02d}.000Z",
            "level": "info",
            "event": "decoy",
            "sev": "ERROR" if i % 5 == 0 else "INFO",
            "text": f"step.{i}",
            "tid": f"t{i % 4}",
            "amount": i,
        }
        for i in range(20)
    ]
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path
