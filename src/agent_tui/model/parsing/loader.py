"""Index a large history file with worker processes: parse pieces in parallel, fold them in order."""

from __future__ import annotations

import multiprocessing
import os
import threading
from array import array
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import replace
from itertools import accumulate
from multiprocessing.pool import AsyncResult

from agent_tui.batch import LineBatch
from agent_tui.model.parsing.columns import (
    Appended,
    SpanValues,
    columns_parser,
    encode_span_ids,
    from_columns,
    transpose,
)
from agent_tui.model.parsing.heap import release_free_memory, return_large_blocks
from agent_tui.model.parsing.parse import LineParser, attrs_of
from agent_tui.model.parsing.projection import PartialAttrs
from agent_tui.model.parsing.recordlines import record_spans
from agent_tui.model.traces.analysis.signals import SIGNAL_READS, batch_signals
from agent_tui.model.traces.sums import SUM_NESTED, SUM_READS, sum_candidates, sum_values

__all__ = [
    "PARALLEL_MIN_BYTES",
    "PIECE_BYTES",
    "Shipped",
    "byte_ranges",
    "iter_file_batches",
    "parallel_batches",
    "parse_piece",
    "sequential_batches",
    "split_file",
]

BATCH_BYTES = 1 << 20
"""Size of the batches a piece is parsed in (and the sequential path reads)."""
PIECE_BYTES = 1 << 20
"""Size of the byte ranges handed to workers (as the TUI's history load). Smaller pieces hold less: the
caller keeps the results of the pieces parsed ahead, and each worker a piece's records until they are
sent; 8 MiB pieces made the peak of the process tree 191 MB for 1 M lines, 2 MiB ones 166 MB, 1 MiB
ones a few MB less again (the worker 28-32 MB instead of 32-34)."""
PARALLEL_MIN_BYTES = 32 << 20
"""Below this, starting worker processes costs more than it saves."""

Shipped = tuple[Appended, list[int], list[int]]
"""A parsed batch as a worker returns it: columns (no lines), per-record offsets and lengths."""


def byte_ranges(path: str, end: int, piece_bytes: int = PIECE_BYTES) -> list[tuple[int, int]]:
    """Ranges covering ``path[0:end)``, each ending just after a newline (or at ``end``)."""
    ranges = []
    start = 0
    with open(path, "rb") as fh:
        while start < end:
            fh.seek(min(start + piece_bytes, end))
            fh.readline()
            stop = min(fh.tell(), end)
            ranges.append((start, stop))
            start = stop
    return ranges


def split_file(path: str, piece_bytes: int = PIECE_BYTES) -> list[tuple[int, int]]:
    """Byte ranges covering the whole file, each ending just after a newline (the last may not)."""
    return byte_ranges(path, os.path.getsize(path), piece_bytes)


def _lines_of(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def iter_file_batches(
    path: str, start: int = 0, end: int | None = None
) -> Iterator[tuple[list[bytes], list[int]]]:
    """``(lines, offsets)`` of ~1 MiB batches of complete lines between ``start`` and ``end``."""
    with open(path, "rb") as fh:
        fh.seek(start)
        position = start
        limit = os.fstat(fh.fileno()).st_size if end is None else end
        while position < limit:
            fh.seek(position)
            data = fh.read(min(BATCH_BYTES, limit - position))
            if not data:
                return
            if not data.endswith(b"\n") and position + len(data) < limit:
                data += fh.readline()[: limit - position - len(data)]
            lines = _lines_of(data)
            offsets = list(accumulate((len(x) + 1 for x in lines[:-1]), initial=position))
            position += len(data)
            yield lines, offsets


def parse_piece(job: tuple[str, int, int, Mapping[str, str] | None]) -> list[Shipped]:
    """Worker: parse one byte range of a file into shippable columns (no line bytes)."""
    path, start, end, overrides = job
    parser = LineParser(overrides)
    out: list[Shipped] = []
    # One object per distinct string: pickle then sends each repeat as a short memo reference.
    seen: dict[str | None, str | None] = {}
    same = seen.setdefault
    events: dict[str, tuple[bool, bool]] = {}
    # Sums and signals read a few keys: decode just those keys, once for both.
    side = PartialAttrs(sorted({*SUM_READS, *SIGNAL_READS}), SUM_NESTED, attrs_of)
    for lines, offsets in iter_file_batches(path, start, end):
        side.new_batch()
        parse_columns = columns_parser(parser)
        if parse_columns is not None:
            columns = parse_columns(lines)
            if not len(columns):
                continue
            a = from_columns(0, columns, lines)
        else:
            pairs = parser.parse_batch(lines)
            if not pairs:
                continue
            a = transpose(0, pairs, lines)
        if a.one_per_line:
            # The read keys of every line, as the mappings sums and signals pick candidates by: exact
            # (escaped keys included) and cheaper than their byte scans for words anywhere in a line.
            a = replace(a, attrs=side.of_lines(lines))
        sums = {k: sum_values(attrs) for k, attrs in sum_candidates(a, side)}
        signals = batch_signals(a, side, events)
        idxs = a.line_index
        if a.one_per_line:
            record_offsets, lengths = offsets, list(map(len, lines))
        else:
            record_offsets, lengths = record_spans(lines, offsets, idxs)
        spans, parents = encode_span_ids(a.span_ids), encode_span_ids(a.parent_ids)
        slim = replace(
            a,
            attrs=(),
            lines=(),
            shipped_sums=sums,
            shipped_signals=signals,
            ts=array("d", a.ts),
            levels=a.level_bytes,
            events=list(map(same, a.events, a.events)),  # type: ignore[arg-type]
            ops=list(map(same, a.ops, a.ops)),
            trace_ids=list(map(same, a.trace_ids, a.trace_ids)),
            span_ids=a.span_ids if spans is None else SpanValues(spans),
            parent_ids=a.parent_ids if parents is None else SpanValues(parents),
        )
        out.append((slim, record_offsets, lengths))
        if len(seen) > 200_000:
            seen.clear()
    release_free_memory()
    return out


_TRIM_EVERY = 16
"""Pieces folded between two ``release_free_memory`` calls in the caller."""


def _context() -> multiprocessing.context.BaseContext:
    # fork is fast, but forking a process that runs other threads (the TUI) is unsafe.
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def parallel_batches(
    path: str, overrides: Mapping[str, str] | None, workers: int, piece_bytes: int = PIECE_BYTES
) -> Iterator[Shipped]:
    """Shipped batches of ``path`` in file order, parsed by ``workers`` processes.

    The caller only folds what the workers ship. When it also parsed a piece whenever the next one was
    not ready, it was busy all the time while its one worker sat idle 40 % of it: ``stats`` of 1 M lines
    took 5.2-5.7 s on 2 cores, against 4.7 s with a pool of two and a caller that only folds. At most
    ``workers + 1`` pieces are in flight, so results never pile up in memory.
    """
    return_large_blocks()
    jobs = [(path, s, e, overrides) for s, e in split_file(path, piece_bytes)]
    if workers < 1:
        for job in jobs:
            yield from parse_piece(job)
        return
    with _context().Pool(workers) as pool:
        queue = deque(jobs)
        pending: deque[AsyncResult[list[Shipped]]] = deque()

        def submit(count: int) -> None:
            for _ in range(min(count, len(queue))):
                pending.append(pool.apply_async(parse_piece, (queue.popleft(),)))

        submit(workers + 1)
        folded = 0
        while pending:
            shipped = pending.popleft().get()
            submit(1)
            if not pending:
                # Every piece is parsed: let the workers go before folding the last one, so their memory
                # is not held (and counted) while the index reaches its full size.
                pool.close()
                pool.join()
            yield from shipped
            folded += 1
            if folded % _TRIM_EVERY == 0:
                release_free_memory()  # what folding freed (batches, per-trace tallies)


def sequential_batches(path: str, file_id: str) -> Iterator[LineBatch]:
    """Batches of ``path`` read in this process, with offsets (the path for small files)."""
    for lines, offsets in iter_file_batches(path):
        yield LineBatch(path, lines, offsets, file_id, path)
