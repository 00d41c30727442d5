"""Export the current view as JSONL (the original line bytes, one per line)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

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


CHUNK: Final = 4096
"""Rows written between yields to the UI loop, so exporting a million rows never freezes the screen."""


async def export_rows(path: Path, seqs: Sequence[int], raw_of: Callable[[int], bytes]) -> tuple[int, int]:
    """Write the raw lines of ``seqs`` to ``path``, yielding to the loop between chunks.

    Runs on the UI loop (never a thread), so the store is never read while it is being mutated.

    Returns:
        ``(written, gone)``: lines written, and records evicted before they could be written.
    """
    written = gone = 0
    with path.open("wb") as out:
        for start in range(0, len(seqs), CHUNK):
            chunk: list[bytes] = []
            for seq in seqs[start : start + CHUNK]:
                try:
                    chunk.append(raw_of(seq))
                except (IndexError, KeyError, ValueError):
                    gone += 1
            if chunk:
                out.write(b"\n".join(chunk) + b"\n")
            written += len(chunk)
            await asyncio.sleep(0)
    return written, gone
