"""Compact columnar index of records: per-line arrays, raw bytes left in files, attributes parsed lazily."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from agent_tui.model.parsing.columns import (
    FLAG_HAS_ERROR,
    FLAG_INFERRED,
    FLAG_RAW,
    FLAG_REPARSE,
    NO_NAME,
    Appended,
    ParsedLike,
    transpose,
)
from agent_tui.model.record import ErrorInfo, Record
from agent_tui.model.store.columns import ColumnStore
from agent_tui.model.store.recordbuild import build_record
from agent_tui.schema import Level

__all__ = ["Appended", "ParsedLike", "Store", "transpose"]

_LEVELS: list[Level | None] = [None] * 256
for _level in Level:
    _LEVELS[_level] = _level


def _span_text(span_id: str | None) -> str | None:
    """A span id as the store always gave it: the all-zero 16-digit id means none (as its 64-bit value 0)."""
    return None if span_id == _ZERO_SPAN else span_id


_ZERO_SPAN = "0" * 16


class Store(ColumnStore):
    """All records seen, as parallel columns (about 29 bytes per line); raw bytes stay in their files.

    Columns per record: offset in its file, length, time, level, trace (interned), op and event
    (interned names) and flags. Source and file come from a small table of runs (one per batch). Span
    ids, the error ``ErrorInfo``, raw-line text and attributes are recovered from the line when asked
    for.

    Args:
        max_records: keep at most this many records (≥ 1), evicting the oldest (counted in ``evicted``).
        spill_dir: where the spill file for file-less sources goes (the system temp dir by default).
        reparse: ``(source, line) -> parsed records`` used to recover fields not kept in columns.
        reparse_many: the same for many lines of one source at once (``records``).
        attrs_of: ``(line, part) -> attribute mapping`` for ``attrs()``.
        attrs_cache: how many attribute mappings (and errors) to keep (LRU).
    """

    # -- reading ----------------------------------------------------------------------------

    def _pos(self, seq: int) -> int:
        if not self.first_seq <= seq < self.end_seq:
            raise IndexError(f"seq {seq} is not in the store ({self.first_seq}..{self.end_seq - 1})")
        return seq - self._base

    def _run(self, seq: int) -> int:
        return bisect_right(self._run_seq, seq) - 1

    def ts(self, seq: int) -> float:
        """Event time of ``seq``."""
        return self._ts[self._pos(seq)]

    def level(self, seq: int) -> Level:
        """Level of ``seq``."""
        return _LEVELS[self._lvl[self._pos(seq)]] or Level.INFO

    def trace_id(self, seq: int) -> str | None:
        """Trace id of ``seq``, if any."""
        tid = self._tr[self._pos(seq)]
        return self.ids.strings[tid] if tid >= 0 else None

    def source_of(self, seq: int) -> int:
        """Source id of ``seq``."""
        self._pos(seq)
        return self._run_src[self._run(seq)]

    def record(self, seq: int, *, spans: bool = True) -> Record:
        """Materialise ``seq`` as a Record from the columns, re-parsing its line for what they lack.

        Span and parent span ids are not kept in columns (16 bytes a line, read only for span trees and
        the few records shown), so they are re-parsed from the line, unless ``spans`` is False: then
        the record has None for both, for a caller that never reads them (a filter on other fields).
        """
        i = self._pos(seq)
        flags = self._flags[i]
        names = self.names.strings
        tid, op, ev = self._tr[i], self._op[i], self._ev[i]
        event = names[ev] if ev < NO_NAME else None
        op_name = names[op] if op < NO_NAME else None
        error = None
        span_id = parent_id = None
        if spans or flags & FLAG_REPARSE or event is None:
            parsed = self._parsed_again(seq, i)
            if spans and parsed is not None:
                span_id, parent_id = _span_text(parsed.span_id), _span_text(parsed.parent_span_id)
            if event is None:
                event = parsed.event if parsed is not None else self.raw(seq).decode("utf-8", "replace")
            if op == NO_NAME and parsed is not None:
                op_name = parsed.op
            if flags & FLAG_HAS_ERROR:
                error = self._error(seq, parsed)
        return build_record(
            seq,
            self._ts[i],
            _LEVELS[self._lvl[i]] or Level.INFO,
            event,
            self.ids.strings[tid] if tid >= 0 else None,
            span_id,
            parent_id,
            op_name,
            error,
            self._run_src[self._run(seq)],
            self._off[i],
            self._len[i],
            bool(flags & FLAG_RAW),
            bool(flags & FLAG_INFERRED),
        )

    def records(self, seqs: Sequence[int], *, spans: bool = True) -> list[Record]:
        """``record`` of each of ``seqs`` (ascending seqs are read fastest): their lines are read in
        blocks and re-parsed in batches (a 2 058-record trace: 56 k instructions a record against 96 k
        one by one, callgrind)."""
        many = self._reparse_many
        try:
            if many is not None and len(seqs) > 1:
                by_source: dict[int, list[int]] = {}
                for seq in seqs:
                    by_source.setdefault(self.source_of(seq), []).append(seq)
                for source, group in by_source.items():
                    self._reparsed.update(zip(group, many(source, list(self.raw_many(group))), strict=True))
            return [self.record(seq, spans=spans) for seq in seqs]
        finally:
            self._reparsed.clear()

    def _parsed_again(self, seq: int, i: int) -> ParsedLike | None:
        if self._reparse is None:
            return None
        found = self._reparsed.get(seq)
        if found is None:
            found = self._reparse(self.source_of(seq), self.raw(seq))
        sub = self._sub.get(seq, 0)
        return found[sub] if sub < len(found) else None

    def _error(self, seq: int, parsed: ParsedLike | None) -> ErrorInfo | None:
        cache = self._errors
        if seq in cache:
            cache.move_to_end(seq)
            return cache[seq]
        error = parsed.error if parsed is not None else None
        cache[seq] = error
        if len(cache) > self._cache_size:
            cache.popitem(last=False)
        return error

    def raw(self, seq: int) -> bytes:
        """The original line bytes of ``seq``."""
        i = self._pos(seq)
        return self._files.read(self._run_file[self._run(seq)], self._off[i], self._len[i])

    def raw_many(self, seqs: Sequence[int]) -> Iterator[bytes]:
        """The original bytes of many records, read in large blocks (fast when seqs ascend)."""
        base, off, ln = self._base, self._off, self._len
        runs, run_file = self._run_seq, self._run_file
        files = [run_file[bisect_right(runs, s) - 1] for s in seqs]
        return self._files.read_many(files, [off[s - base] for s in seqs], [ln[s - base] for s in seqs])

    def attrs(self, seq: int, *, raw: bytes | None = None, cache: bool = True) -> Mapping[str, Any]:
        """The attribute mapping of ``seq``, parsed on first use and kept in an LRU.

        Args:
            seq: the record.
            raw: its line bytes when the caller already has them (saves a read).
            cache: False for one-off scans, which would only push useful entries out of the LRU.
        """
        lru = self._attrs
        found = lru.get(seq)
        if found is not None:
            lru.move_to_end(seq)
            return found
        i = self._pos(seq)
        if self._attrs_of is None:
            parsed = self._parsed_again(seq, i)
            found = (parsed.attrs if parsed is not None else None) or {}
        else:
            found = self._attrs_of(self.raw(seq) if raw is None else raw, self._sub.get(seq, 0))
        if cache:
            lru[seq] = found
            if len(lru) > self._cache_size:
                lru.popitem(last=False)
        return found

    def error_seqs(self) -> Sequence[int]:
        """Seqs of records at error level or above, ascending."""
        start = bisect_left(self._error_seqs, self.first_seq)
        return self._error_seqs[start:] if start else self._error_seqs

    def seqs_of_trace(self, trace_id: str, lo: int = 0, hi: int | None = None) -> list[int]:
        """Seqs of the records carrying ``trace_id`` within ``[lo, hi]``, ascending."""
        tid = self.ids.get(trace_id)
        if tid is None:
            return []
        base = self._base
        stop = (self.end_seq if hi is None else min(hi + 1, self.end_seq)) - base
        column = self._tr
        out: list[int] = []
        i = max(lo, self.first_seq) - base - 1
        while True:
            try:
                i = column.index(tid, i + 1, stop)
            except ValueError:
                return out
            out.append(i + base)

    @property
    def columns_base(self) -> int:
        """Seq of the first row still held in the columns (rows before ``first_seq`` are evicted)."""
        return self._base

    @property
    def level_column(self) -> array[int]:
        """Per-row level values; row ``seq - columns_base``."""
        return self._lvl

    @property
    def trace_column(self) -> array[int]:
        """Per-row interned trace ids (-1 for none, else an index into ``ids.strings``)."""
        return self._tr

    @property
    def ts_column(self) -> array[float]:
        """Per-row event times; row ``seq - columns_base``."""
        return self._ts

    def time_bounds(self) -> tuple[float, float] | None:
        """The earliest and the newest record time (None when empty), read in place: a copy of the time
        column would be 8 MB of a 1 M-line index."""
        start = self.first_seq - self._base
        times = memoryview(self._ts)[start:] if start else self._ts
        if not len(times):
            return None
        return min(times), max(times)

    @property
    def event_column(self) -> array[int]:
        """Per-row interned events (``names.strings`` index; ``NO_NAME``/``NAME_NONE``: not in columns)."""
        return self._ev

    @property
    def op_column(self) -> array[int]:
        """Per-row interned ops (``NAME_NONE`` for none, ``NO_NAME`` when only the line has it)."""
        return self._op

    def column_bytes(self) -> int:
        """Bytes held by the per-record columns (for benchmarks and the stats bar)."""
        columns = (
            self._off, self._len, self._ts, self._lvl, self._tr, self._op, self._ev, self._flags,
            self._run_seq, self._run_src, self._run_file,
        )  # fmt: skip
        return sum(c.itemsize * len(c) for c in columns)

    # -- display order ----------------------------------------------------------------------

    def time_order(self) -> Sequence[int]:
        """Seqs in display order: arrival order for one source, merged by time (stable) for several."""
        ts, base = self._ts, self._base
        return self._order.seqs(self.first_seq, self.end_seq, lambda s: ts[s - base])

    @property
    def arrival_ordered(self) -> bool:
        """True while display order is plain arrival (seq) order."""
        return self._order.arrival

    @property
    def order_epoch(self) -> int:
        """Changes whenever new records did not land at the end of ``time_order()``."""
        return self._order.epoch

    def close(self) -> None:
        """Release file descriptors and the spill file."""
        self._files.close()
