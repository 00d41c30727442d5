"""The store's columns: parsed batches appended as per-record arrays, the oldest records evicted."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import compress, repeat
from operator import is_not
from typing import Any

from agent_tui.batch import LineBatch
from agent_tui.model.parsing.columns import (
    FLAG_HAS_ERROR,
    FLAG_REPARSE,
    NAME_NONE,
    NO_NAME,
    Appended,
    AttrsOf,
    ColumnsLike,
    Interner,
    ParsedLike,
    Reparse,
    ReparseMany,
    batch_flags,
    empty_appended,
    from_columns,
    indices_at_least,
    transpose,
)
from agent_tui.model.parsing.recordlines import record_spans
from agent_tui.model.record import ErrorInfo
from agent_tui.model.store.order import DisplayOrder
from agent_tui.model.store.rawio import RawFiles
from agent_tui.schema import Level

__all__ = ["ColumnStore"]

_ERROR_LEVEL = re.compile(b"[\\x%02x-\\xff]" % Level.ERROR)
"""Matches a level byte at error or above."""


class ColumnStore:
    """The columns of a :class:`~agent_tui.model.store.index.Store`, how batches get in and old records out.

    ``Store`` adds the reading side (records, raw bytes, attributes, display order) and documents the
    constructor's arguments.
    """

    def __init__(
        self,
        *,
        max_records: int | None = None,
        spill_dir: str | None = None,
        reparse: Reparse | None = None,
        reparse_many: ReparseMany | None = None,
        attrs_of: AttrsOf | None = None,
        attrs_cache: int = 4096,
    ) -> None:
        if max_records is not None and max_records < 1:
            raise ValueError(f"max_records must be at least 1, got {max_records}")
        self.max_records = max_records
        self.first_seq = 0
        self.evicted = 0
        self.raw_count = 0
        self._base = 0  # seq of column row 0 (rows of evicted records stay until compaction)
        self._off = array("I")  # widened to "q" when a file passes 4 GiB
        self._len = array("H")  # widened to "I" when a line passes 64 KiB
        self._ts = array("d")
        self._lvl = array("B")
        self._tr = array("i")
        self._op = array("H")
        self._ev = array("H")
        self._flags = array("B")
        self._run_seq = array("q")  # first seq of each run of records from one (source, file)
        self._run_src = array("H")
        self._run_file = array("I")
        self._sub: dict[int, int] = {}
        self._error_seqs = array("q")
        self.ids = Interner()
        """Trace ids."""
        self.names = Interner(cap=NO_NAME - 1, none=NAME_NONE, full=NO_NAME)
        """Events and ops."""
        self._sources: list[str] = []
        self._source_ids: dict[str, int] = {}
        self._files = RawFiles(spill_dir)
        self._reparse = reparse
        self._reparse_many = reparse_many
        self._reparsed: dict[int, Sequence[ParsedLike]] = {}
        """Lines of a ``records`` call re-parsed ahead, by seq (empty between calls)."""
        self._attrs_of = attrs_of
        self._cache_size = attrs_cache
        self._attrs: OrderedDict[int, Mapping[str, Any]] = OrderedDict()
        self._errors: OrderedDict[int, ErrorInfo | None] = OrderedDict()
        self._order = DisplayOrder()

    # -- size and identity ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ts) + self._base - self.first_seq

    @property
    def end_seq(self) -> int:
        """The seq the next record will get."""
        return self._base + len(self._ts)

    def source_id(self, name: str) -> int:
        """The dense id of a source name, registering it on first sight."""
        sid = self._source_ids.get(name)
        if sid is None:
            sid = self._source_ids[name] = len(self._sources)
            self._sources.append(name)
        return sid

    def source_name(self, source: int) -> str:
        """The display name of source ``source``."""
        return self._sources[source]

    @property
    def sources(self) -> Sequence[str]:
        """All source names, by id."""
        return self._sources

    # -- appending --------------------------------------------------------------------------

    def append(self, source: int, batch: LineBatch, pairs: Sequence[tuple[int, ParsedLike]]) -> Appended:
        """Index the parsed records of one batch; ``pairs`` are ``(line index, parsed)``."""
        return self._append(batch, source, transpose(self.end_seq, pairs, batch.lines) if pairs else None)

    def append_parsed_columns(self, source: int, batch: LineBatch, columns: ColumnsLike) -> Appended:
        """Index one batch the parser already returned as columns (``LineParser.parse_columns``)."""
        return self._append(
            batch, source, from_columns(self.end_seq, columns, batch.lines) if len(columns) else None
        )

    def append_shipped(self, source: int, batch: LineBatch, a: Appended) -> Appended:
        """Index one batch a worker process parsed (``livebatch.unship``: numbered from 0, no lines)."""
        a = replace(a, first_seq=self.end_seq, lines=batch.lines, new_errors=[], new_criticals=[])
        return self._append(batch, source, a if a.count else None)

    def _append(self, batch: LineBatch, source: int, a: Appended | None) -> Appended:
        lines = batch.lines
        file, offsets = self._files.place(batch.path, batch.file_id, lines, batch.offsets)
        if a is None:
            return empty_appended(self.end_seq, lines)
        if a.one_per_line:
            return self._add(source, a, file, offsets, list(map(len, lines)))
        record_offsets, lengths = record_spans(lines, offsets, a.line_index)
        return self._add(source, a, file, record_offsets, lengths)

    def register_file(self, path: str, file_id: str = "") -> int | None:
        """Open ``path`` for re-reading lines by offset; return its file index (None if unreadable)."""
        return self._files.register(path, file_id)

    def append_columns(
        self, source: int, columns: Appended, file: int, offsets: Sequence[int], lengths: Sequence[int]
    ) -> Appended:
        """Index a batch transposed elsewhere (a worker process); its lines are in registered ``file``."""
        if not columns.count:
            return columns
        a = replace(columns, first_seq=self.end_seq, new_errors=[], new_criticals=[])
        return self._add(source, a, file, offsets, lengths)

    def _add(
        self, source: int, a: Appended, file: int, offsets: Sequence[int], lengths: Sequence[int]
    ) -> Appended:
        first = a.first_seq
        n = a.count
        if not len(self._run_seq) or self._run_src[-1] != source or self._run_file[-1] != file:
            self._run_seq.append(first)
            self._run_src.append(source)
            self._run_file.append(file)
        self._extend("_off", offsets, "q")  # an offset past 4 GiB
        self._extend("_len", lengths, "I")  # a line longer than 64 KiB
        ts = a.ts
        self._ts.extend(ts if isinstance(ts, array) and ts.typecode == "d" else array("d", ts))
        self._lvl.frombytes(a.level_bytes)
        # array(list(map(...))) is about twice as fast as array(map(...)) or extend(map(...)).
        self._tr.extend(array("i", self.ids.indices(a.trace_ids)))
        names = self.names.__getitem__
        op_ids = array("H", self.names.indices(a.ops))
        raws = a.raws
        n_raw = raws.count(True)
        if n_raw:
            self.raw_count += n_raw
            ev_ids = array("H", [NAME_NONE if r else names(e) for e, r in zip(a.events, raws, strict=True)])
        else:
            ev_ids = array("H", self.names.indices(a.events))
        self._op.extend(op_ids)
        self._ev.extend(ev_ids)
        capped = len(self.names.strings) >= NO_NAME - 1 and (NO_NAME in op_ids or NO_NAME in ev_ids)
        errors = a.errors
        if n_raw or a.inferred.count(True) or capped:
            flags = batch_flags(raws, a.inferred, errors, op_ids, ev_ids)
        else:
            flags = bytearray(n)
            if errors.count(None) != n:
                for k in compress(range(n), map(is_not, errors, repeat(None))):
                    flags[k] = FLAG_HAS_ERROR | FLAG_REPARSE
        self._flags.frombytes(flags)
        if not a.one_per_line:
            self._note_subrecords(first, a.line_index)
        levels = a.level_bytes
        if _ERROR_LEVEL.search(levels) is not None:
            a.new_errors.extend(first + k for k in indices_at_least(levels, Level.ERROR))
            a.new_criticals.extend(first + k for k in indices_at_least(levels, Level.CRITICAL))
            self._error_seqs.extend(a.new_errors)
        self._order.note(first, a.ts, a.ts_sorted, len(self._sources))
        self._evict()
        return a

    def _extend(self, name: str, values: Sequence[int], wide: str) -> None:
        """Append ``values`` to column ``name``, widening it to typecode ``wide`` if one does not fit."""
        column: array[int] = getattr(self, name)
        if isinstance(values, array) and values.typecode == column.typecode:
            column.extend(values)  # a copy of memory: workers ship the column's own typecode
            return
        try:
            added = array(column.typecode, values)
        except OverflowError:
            column = array(wide, column)
            setattr(self, name, column)
            added = array(wide, values)
        column.extend(added)

    def _note_subrecords(self, first: int, idxs: Sequence[int]) -> None:
        previous = -1
        sub = 0
        for k, i in enumerate(idxs):
            sub = sub + 1 if i == previous else 0
            if sub:
                self._sub[first + k] = sub
            previous = i

    # -- eviction ---------------------------------------------------------------------------

    def _evict(self) -> None:
        limit = self.max_records
        if limit is None or len(self) <= limit:
            return
        drop = len(self) - limit
        self.first_seq += drop
        self.evicted += drop
        self._order.evicted()
        dead = self.first_seq - self._base
        if dead >= max(limit // 4, 1024):
            self._compact(dead)

    def _compact(self, dead: int) -> None:
        for column in (
            self._off, self._len, self._ts, self._lvl, self._tr, self._op, self._ev, self._flags,
        ):  # fmt: skip
            del column[:dead]
        self._base += dead
        runs = bisect_right(self._run_seq, self.first_seq) - 1
        for run_column in (self._run_seq, self._run_src, self._run_file):
            del run_column[:runs]
        del self._error_seqs[: bisect_left(self._error_seqs, self.first_seq)]
        if self._sub:
            self._sub = {s: v for s, v in self._sub.items() if s >= self.first_seq}
        if len(self.ids.strings) > 2 * len(self) // 8 + 1024:
            self._rebuild_ids()

    def _rebuild_ids(self) -> None:
        # Ids of evicted records would otherwise pile up forever while following.
        old = self.ids.strings
        fresh = Interner()
        self._tr = array("i", [fresh[old[i]] if i >= 0 else -1 for i in self._tr])
        self.ids = fresh
