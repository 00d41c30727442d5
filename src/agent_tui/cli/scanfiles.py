"""Scanning files for ``query``: a regular file through a memory map, in worker processes when it is big,
and any other byte stream (stdin, a decompressing reader) block by block."""

from __future__ import annotations

import gzip
import mmap
import os
import sys
from collections.abc import Iterator
from typing import IO, Final

from agent_tui.cli.progress import progress_for
from agent_tui.model.parsing.recordlines import is_partial_piece
from agent_tui.model.query.scan import ByteSink, Scanner, ScanPlan

__all__ = ["STREAM_BLOCK", "scan_path", "scan_stream"]

_CHUNK: Final = 16 << 20
"""Bytes a worker copies out of the map at once: under glibc's largest mmap threshold (32 MiB), so each
copy reuses the heap memory the last one freed instead of faulting in fresh pages (a third of the CPU of
reading, measured)."""
STREAM_BLOCK: Final = 8 << 20
"""Bytes read from a stream at once."""


_WORKER: Scanner | None = None
_WORKER_MAP: mmap.mmap | None = None


def _work(span: tuple[int, int]) -> tuple[int, bytes]:
    assert _WORKER is not None and _WORKER_MAP is not None
    count, lines = _WORKER.scan(_WORKER_MAP[span[0] : span[1]])
    return count, (b"\n".join(lines) + b"\n" if lines else b"")


def _chunks(view: mmap.mmap, size: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Byte ranges of whole lines; a range never ends inside the pieces of a joined Docker record."""
    start = 0
    while start < size:
        end = min(start + chunk, size)
        while end < size:
            newline = view.find(b"\n", end)
            end = size if newline < 0 else newline + 1
            if not is_partial_piece(view[view.rfind(b"\n", 0, end - 1) + 1 : end - 1]):
                break
        yield start, end
        start = end


def scan_path(path: str, plan: ScanPlan, out: ByteSink | None, *, workers: int | None = None) -> int:
    """Scan one regular file, writing matching original lines (newline-terminated) to ``out``.

    Args:
        path: a regular, uncompressed file.
        plan: the filter and time bounds.
        out: where matching lines go (ignored when ``plan.count_only``).
        workers: processes to use; default: up to 2 for files over 64 MiB, else scan in-process.

    Returns:
        The number of matching records.
    """
    global _WORKER, _WORKER_MAP
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return 0
        view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if size > (64 << 20) else 1
        chunk = max(1 << 20, min(_CHUNK, size // max(1, workers * 4) + 1))
        _WORKER, _WORKER_MAP = Scanner(plan), view
        spans = list(_chunks(view, size, chunk))
        if workers <= 1 or len(spans) == 1:
            results: Iterator[tuple[int, bytes]] = map(_work, spans)
            return _drain(_reporting(results, spans, size, path), out, plan)
        import multiprocessing  # noqa: PLC0415 -- a one-process scan never needs it

        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            return _drain(_reporting(pool.imap(_work, spans), spans, size, path), out, plan)
    finally:
        _WORKER, _WORKER_MAP = None, None
        view.close()


def _reporting(
    results: Iterator[tuple[int, bytes]], spans: list[tuple[int, int]], size: int, path: str
) -> Iterator[tuple[int, bytes]]:
    """``results`` unchanged, with a progress line on stderr when it is a terminal and stdout is not."""
    progress = progress_for(path, sys.stderr, verb="scanning", unit="matches", output=sys.stdout)
    if progress is None:
        yield from results
        return
    matched = 0
    try:
        for (_start, end), (count, payload) in zip(spans, results, strict=False):
            matched += count
            progress(end, size, matched)
            yield count, payload
    finally:
        progress.close()


def _drain(results: Iterator[tuple[int, bytes]], out: ByteSink | None, plan: ScanPlan) -> int:
    total = 0
    for count, payload in results:
        total += count
        if payload and out is not None and not plan.count_only:
            out.write(payload)
    return total


def scan_stream(stream: IO[bytes] | gzip.GzipFile, plan: ScanPlan, out: ByteSink | None) -> int:
    """Scan a byte stream (stdin, a decompressing reader) block by block; returns the number of matches."""
    scanner = Scanner(plan)
    total = 0
    tail = b""
    while True:
        block = stream.read(STREAM_BLOCK)
        if not block:
            break
        block = tail + block
        cut = block.rfind(b"\n") + 1
        tail = block[cut:]
        total += _emit(scanner, block[:cut], out)
    if tail:
        total += _emit(scanner, tail, out)
    return total


def _emit(scanner: Scanner, data: bytes, out: ByteSink | None) -> int:
    if not data:
        return 0
    count, lines = scanner.scan(data)
    if lines and out is not None:
        out.write(b"\n".join(lines) + b"\n")
    return count
