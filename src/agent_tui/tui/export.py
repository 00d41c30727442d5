"""Export the current view as JSONL (the original line bytes, one per line)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from agent_tui.tui.widgets.log_view import Rows

__all__ = ["export_path", "export_rows"]


def export_path(directory: Path, now: float) -> Path:
    """A fresh file name in ``directory`` from the clock, never overwriting an existing file."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = directory / f"agent-tui-export-{stamp}.jsonl"
    n = 1
    while path.exists():
        path = directory / f"agent-tui-export-{stamp}-{n}.jsonl"
        n += 1
    return path


def export_rows(path: Path, rows: Rows, count: int, raw_of: Callable[[int], bytes]) -> int:
    """Write the first ``count`` rows' raw lines to ``path``; returns how many were written."""
    with path.open("wb") as out:
        chunk: list[bytes] = []
        for i in range(count):
            chunk.append(raw_of(rows[i]))
            chunk.append(b"\n")
            if len(chunk) >= 8192:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    return count
