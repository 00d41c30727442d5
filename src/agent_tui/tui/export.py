"""Export the current view as JSONL (the original line bytes, one per line), written off the UI loop."""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Final, Protocol

__all__ = [
    "ExportFile",
    "ExportStopped",
    "Opener",
    "export_path",
    "export_rows",
    "failure_text",
    "open_export",
]

CHUNK: Final = 4096
"""Rows read (on the UI loop) per write (in aiofiles' thread), so a million rows never freeze the screen."""
_DISK_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})


class ExportFile(Protocol):
    """The file an export writes to (an aiofiles file: each call runs in a worker thread)."""

    async def write(self, data: bytes, /) -> int:
        """Write ``data``."""
        ...

    async def close(self) -> None:
        """Close the file (may report a late write error, e.g. on NFS)."""
        ...


Opener = Callable[[Path], Awaitable[ExportFile]]
"""Opens the export file at a path (injected so tests can write to ``/dev/full``)."""


async def open_export(path: Path) -> ExportFile:
    """Create ``path`` through aiofiles, unbuffered (each chunk is one write), never replacing a file."""
    import aiofiles  # noqa: PLC0415 -- loaded at the first export, not before the first screen

    return await aiofiles.open(path, "xb", buffering=0)


class ExportStopped(Exception):
    """The export could not be finished; ``error`` says why, ``written`` records reached the file."""

    def __init__(self, error: OSError, written: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.written = written


def export_path(directory: Path, now: float) -> Path:
    """A fresh file name in ``directory`` from the clock, never an existing file (it stats: use a thread)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = directory / f"agent-tui-export-{stamp}.jsonl"
    n = 1
    while path.exists():
        path = directory / f"agent-tui-export-{stamp}-{n}.jsonl"
        n += 1
    return path


async def export_rows(
    path: Path, seqs: Sequence[int], raw_of: Callable[[int], bytes], open_file: Opener = open_export
) -> tuple[int, int]:
    """Write the raw lines of ``seqs`` to ``path``: read on the loop, written in aiofiles' thread.

    Lines are read on the UI loop (never a thread), so the store is never read while it is being
    mutated; the slow part, opening and writing (a full or slow disk, an NFS home), never blocks it.

    Returns:
        ``(written, gone)``: lines written, and records evicted before they could be written.

    Raises:
        ExportStopped: the file could not be created, written or closed.
    """
    written = gone = 0
    try:
        out = await open_file(path)
    except OSError as exc:
        raise ExportStopped(exc, 0) from exc
    try:
        for start in range(0, len(seqs), CHUNK):
            chunk: list[bytes] = []
            for seq in seqs[start : start + CHUNK]:
                try:
                    chunk.append(raw_of(seq))
                except (IndexError, KeyError, ValueError):
                    gone += 1
            if chunk:
                await out.write(b"\n".join(chunk) + b"\n")
                written += len(chunk)
            else:
                await asyncio.sleep(0)
    except OSError as exc:
        await _close_quietly(out)
        raise ExportStopped(exc, written) from exc
    try:
        await out.close()
    except OSError as exc:
        raise ExportStopped(exc, written) from exc
    return written, gone


async def _close_quietly(out: ExportFile) -> None:
    try:
        await out.close()
    except OSError:
        return


def failure_text(path: Path, stopped: ExportStopped, total: int) -> str:
    """The toast for a failed export: a full disk said in those words, with how far it got."""
    error = stopped.error
    if error.errno in _DISK_FULL:
        kept = f"; partial file {path}" if stopped.written else ""
        return f"disk full: export stopped after {stopped.written:,} of {total:,} records{kept}"
    reason = error.strerror or str(error)
    return f"export to {path} failed: {reason}"
