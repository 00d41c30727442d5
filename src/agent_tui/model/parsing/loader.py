"""Index a large history file with worker processes: parse pieces in parallel, fold them in order."""

from __future__ import annotations

import os
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import accumulate, count
from operator import add
from typing import TYPE_CHECKING

from agent_tui.batch import LineBatch
from agent_tui.model.livebatch import SideValues, side_parser, slimmed
from agent_tui.model.parsing.columns import (
    Appended,
    columns_parser,
    from_columns,
    transpose,
)
from agent_tui.model.parsing.heap import release_free_memory, return_large_blocks
from agent_tui.model.parsing.native import compiled
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.parsing.recordlines import record_spans
from agent_tui.model.parsing.workers import Workers

if TYPE_CHECKING:
    import multiprocessing.context

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

Shipped = tuple[Appended, Sequence[int], Sequence[int]]
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
    for lines, position in _file_blocks(path, start, end):
        yield lines, _offsets(lines, position)


def _offsets(lines: list[bytes], position: int) -> list[int]:
    # offset k = position + k newlines + the lengths before it, by C-level passes only
    return list(map(add, accumulate(map(len, lines[:-1]), initial=position), count())) if lines else []


def _file_blocks(path: str, start: int = 0, end: int | None = None) -> Iterator[tuple[list[bytes], int]]:
    """``(lines, offset of the first)`` of ~1 MiB batches of complete lines between ``start`` and ``end``."""
    with open(path, "rb") as fh:
        fh.seek(start)
        position = start
        limit = os.fstat(fh.fileno()).st_size if end is None else end
        while position < limit:
            fh.seek(position)
            # The rest of a range in one read when it is little more than a batch (a worker's piece
            # ends on a line end): no line to complete and no copy of the batch to add it to.
            left = limit - position
            data = fh.read(left if left <= BATCH_BYTES + (BATCH_BYTES >> 2) else BATCH_BYTES)
            if not data:
                return
            if not data.endswith(b"\n") and position + len(data) < limit:
                data += fh.readline()[: limit - position - len(data)]
            yield _lines_of(data), position
            position += len(data)


def parse_piece(job: tuple[str, int, int, Mapping[str, str] | None]) -> list[Shipped]:
    """Worker: parse one byte range of a file into shippable columns (no line bytes)."""
    path, start, end, overrides = job
    template, side = _readers(overrides)
    parser = template.fresh()
    out: list[Shipped] = []
    # One object per distinct string: pickle then sends each repeat as a short memo reference.
    seen: dict[str | None, str | None] = {}
    same = seen.setdefault
    for lines, position in _file_blocks(path, start, end):
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
        a = side(a)
        # Arrays: a list of ints is pickled and unpickled one int object at a time; in the store's
        # typecodes where they fit, so it appends them as they are.
        if a.one_per_line:
            spans = _line_spans(lines, position)
        else:
            record_offsets, lengths = record_spans(lines, _offsets(lines, position), a.line_index)
            spans = _narrow(record_offsets, "I", "q"), _narrow(lengths, "H", "I")
        out.append((slimmed(a, same), *spans))
        if len(seen) > 200_000:
            seen.clear()
    template.learned(parser)
    release_free_memory()
    return out


_READERS: dict[tuple[tuple[str, str], ...] | None, tuple[LineParser, SideValues]] = {}
"""A process's parser template and side reader by ``--field`` overrides, kept from piece to piece."""


def _readers(overrides: Mapping[str, str] | None) -> tuple[LineParser, SideValues]:
    """The parser template (pieces are read by its ``fresh`` parsers) and the side reader for a piece.

    Neither depends on what was read before but for caches keyed by key sets and event names: a
    piece parsed with the plans and projections learned on earlier ones (``LineParser.fresh``) and
    the side reader's decoder built once maps every line as new ones would, without building them
    again for each 1 MiB piece (2.22 -> 2.03 us a line in a worker).
    """
    key = tuple(sorted(overrides.items())) if overrides else None
    kept = _READERS.get(key)
    if kept is None:
        kept = _READERS[key] = (side_parser(overrides), SideValues())
    return kept


line_spans: Callable[[Sequence[bytes], int], tuple[str, bytes, str, bytes]] | None = compiled("line_spans")
"""``_rowscan.line_spans``: a batch's line offsets and lengths as array bytes in one pass, None where not
built (0.1 -> 0.01 us a line)."""


def _line_spans(lines: list[bytes], position: int) -> tuple[array[int], array[int]]:
    """Each line's offset and length (the first line at ``position``) as arrays in the store's typecodes."""
    spans = line_spans
    if spans is None:
        return _narrow(_offsets(lines, position), "I", "q"), _narrow(list(map(len, lines)), "H", "I")
    offset_code, offsets, length_code, lengths = spans(lines, position)
    at, size = array(offset_code), array(length_code)
    at.frombytes(offsets)
    size.frombytes(lengths)
    return at, size


def _narrow(values: list[int], narrow: str, wide: str) -> array[int]:
    try:
        return array(narrow, values)
    except OverflowError:
        return array(wide, values)


_TRIM_EVERY = 16
"""Pieces folded between two ``release_free_memory`` calls in the caller."""


def _context() -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    # Imported here: the TUI imports this module for its first screen, which starts no process.
    import multiprocessing  # noqa: PLC0415

    # fork is fast, but forking a process that runs other threads (the TUI) is unsafe.
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def parallel_batches(
    path: str, overrides: Mapping[str, str] | None, workers: int, piece_bytes: int = PIECE_BYTES
) -> Iterator[Shipped]:
    """Shipped batches of ``path`` in file order, parsed by ``workers`` processes.

    In a process running no other thread (the headless commands) the caller is one of the ``workers``:
    one process fewer holds memory (a worker counts 27-32 MB in the process tree) and nothing it parses
    is pickled. It parses the next unstarted piece when the one it needs is not ready, but only its fair
    share of them (``_Share``): parsing whenever it could kept it busy while its worker sat idle 40 % of
    the run. A threaded process leaves all parsing to the workers. Each worker holds at most two
    pieces (one parsed, one queued) and the caller ``_STOLEN_MAX`` parsed ahead, so results never pile up.
    """
    return_large_blocks()
    jobs = [(path, s, e, overrides) for s, e in split_file(path, piece_bytes)]
    local = threading.active_count() == 1
    pool_size = workers - 1 if local else workers
    if pool_size < 1:
        for job in jobs:
            yield from parse_piece(job)
        return
    share = _Share(pool_size)
    pool = Workers(parse_piece, pool_size, _context())
    pool_open = True
    try:
        # Pieces nobody has started, in file order. The caller used to parse the last 15 % alone, to end
        # its worker early (a worker holds 27-32 MB): since the compiled quantile took 8 MB off the
        # caller's peak, the tree peaks at 114-116 MB on 1 M lines (307 MB) with the worker kept to the
        # end, and stats takes 2.14-2.19 s instead of 2.28-2.37 s.
        queue = deque(range(len(jobs)))
        owner: dict[int, int] = {}  # piece -> the worker parsing it
        stolen: dict[int, list[Shipped]] = {}

        def top_up() -> None:
            while queue and pool.hungry:
                k = queue.popleft()
                owner[k] = pool.give(jobs[k])

        top_up()
        for k in range(len(jobs)):
            shipped = stolen.pop(k, None)
            if shipped is None and k in owner:
                w = owner.pop(k)
                while local and queue and len(stolen) < _STOLEN_MAX and not pool.ready(w) and share.wants():
                    j = queue.popleft()
                    started = time.perf_counter()
                    stolen[j] = parse_piece(jobs[j])
                    share.parsed(time.perf_counter() - started)
                shipped = pool.take(w)
            elif shipped is None:
                # Not given out yet (every worker was full when its turn came): the caller parses it.
                queue.remove(k)
                shipped = parse_piece(jobs[k])
            top_up()
            if not queue and not owner and pool_open:
                # The workers' pieces are parsed: let them go before folding the rest, so their memory
                # is not held (and counted) while the index reaches its full size.
                pool_open = False
                pool.close()
            started = time.perf_counter()
            yield from shipped
            share.folded(time.perf_counter() - started)
            if (k + 1) % _TRIM_EVERY == 0:
                release_free_memory()  # what folding freed (batches, per-trace tallies)
    finally:
        if pool_open:
            pool.kill()


_STOLEN_MAX = 2
"""Pieces the caller may have parsed ahead of the one it waits for."""


class _Share:
    """How many pieces the caller should parse itself so that it and its workers finish together.

    Folding a piece takes the caller ``F`` seconds and parsing one ``P`` (both measured as it goes);
    with ``W`` workers each parsing ``(1 - f) / W`` of the pieces, the caller's ``F + f P`` equals a
    worker's ``(1 - f) P / W`` at ``f = (P - W F) / (P (W + 1))`` (none when folding alone is the larger).
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._fold_s = 0.0
        self._folds = 0
        self._parse_s = 0.0
        self._parses = 0

    def wants(self) -> bool:
        """True when the caller has parsed fewer pieces than its share of those taken so far."""
        if not self._parses or not self._folds:
            return True  # nothing to go by yet
        parse = self._parse_s / self._parses
        fold = self._fold_s / self._folds
        share = (parse - self._workers * fold) / (parse * (self._workers + 1))
        return self._parses < share * (self._folds + 1)

    def parsed(self, seconds: float) -> None:
        """The caller parsed a piece in ``seconds``."""
        self._parse_s += seconds
        self._parses += 1

    def folded(self, seconds: float) -> None:
        """The caller folded a piece in ``seconds``."""
        self._fold_s += seconds
        self._folds += 1


def sequential_batches(path: str, file_id: str) -> Iterator[LineBatch]:
    """Batches of ``path`` read in this process, with offsets (the path for small files)."""
    for lines, offsets in iter_file_batches(path):
        yield LineBatch(path, lines, offsets, file_id, path)
