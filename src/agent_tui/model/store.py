"""Compact columnar index of records: per-line arrays, raw bytes left in files, attributes parsed lazily."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from agent_tui.model.rawio import FILE_SHIFT, OFFSET_MASK, RawFiles
from agent_tui.model.record import ErrorInfo, Record
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch

__all__ = ["Appended", "ParsedLike", "Store", "transpose"]

_RAW = 1
_INFERRED = 2
_HAS_ERROR = 4
_REPARSE = 8
"""Some field is not in the columns (raw text, a capped name, an error): re-parse the line for it."""

_NO_NAME = -2
_NAME_CAP = 1 << 16
_LEVELS: list[Level | None] = [None] * 256
for _level in Level:
    _LEVELS[_level] = _level


class ParsedLike(Protocol):
    """The fields of ``agent_tui.model.parse.Parsed`` the store reads."""

    ts: float
    ts_inferred: bool
    level: Level
    event: str
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    op: str | None
    error: ErrorInfo | None
    raw: bool
    attrs: dict[str, Any] | None


class _Interner(dict[str | None, int]):
    """Maps strings to dense ints (``None`` to -1); ``__missing__`` keeps hits on the C fast path."""

    def __init__(self, cap: int | None = None) -> None:
        super().__init__()
        self[None] = -1
        self.strings: list[str] = []
        self.cap = cap

    def __missing__(self, key: str | None) -> int:
        if key is None:
            return -1
        if self.cap is not None and len(self.strings) >= self.cap:
            return _NO_NAME
        index = len(self.strings)
        self.strings.append(key)
        self[key] = index
        return index

    def lookup(self, index: int) -> str | None:
        return self.strings[index] if index >= 0 else None


@dataclass(frozen=True, slots=True)
class Appended:
    """The columns of one appended batch, handed to the trace forest and the stats."""

    first_seq: int
    ts: Sequence[float]
    levels: Sequence[int]
    events: Sequence[str]
    trace_ids: Sequence[str | None]
    span_ids: Sequence[str | None]
    parent_ids: Sequence[str | None]
    ops: Sequence[str | None]
    errors: Sequence[ErrorInfo | None]
    raws: Sequence[bool]
    parsed: Sequence[ParsedLike]
    line_index: Sequence[int]
    lines: Sequence[bytes]
    new_errors: list[int]
    new_criticals: list[int]
    level_bytes: bytes = b""
    """``levels`` as bytes, for C-level counting (``level_bytes.count(Level.ERROR)``)."""
    inferred: Sequence[bool] = ()
    one_per_line: bool = True
    """Record ``k`` came from line ``k`` (no multi-record or joined lines in the batch)."""
    ts_sorted: bool = True
    """The batch's times never decrease."""
    sum_attrs: Mapping[int, Mapping[str, Any]] | None = None
    """Pre-extracted summed fields by record index (set by worker processes, which ship no lines)."""

    @property
    def count(self) -> int:
        """Number of records appended."""
        return len(self.ts)


Reparse = Callable[[int, bytes], Sequence[ParsedLike]]
AttrsOf = Callable[[bytes, int], Mapping[str, Any]]
"""``(line, part) -> attributes``; ``part`` picks one record of a line that holds several."""


class Store:
    """All records seen, as parallel columns (tens of bytes per line); raw bytes stay in their files.

    Args:
        max_records: keep at most this many records, evicting the oldest (counted in ``evicted``).
        spill_dir: where the spill file for file-less sources goes (the system temp dir by default).
        reparse: ``(source, line) -> parsed records`` used to recover fields not kept in columns.
        attrs_of: ``line -> attribute mapping`` for ``attrs()``.
        attrs_cache: how many attribute mappings to keep (LRU).
    """

    def __init__(
        self,
        *,
        max_records: int | None = None,
        spill_dir: str | None = None,
        reparse: Reparse | None = None,
        attrs_of: AttrsOf | None = None,
        attrs_cache: int = 4096,
    ) -> None:
        self.max_records = max_records
        self.first_seq = 0
        self.evicted = 0
        self.raw_count = 0
        self._base = 0  # seq of column index 0 (columns keep evicted rows until compaction)
        self._off = array("q")
        self._len = array("I")
        self._ts = array("d")
        self._lvl = array("B")
        self._src = array("H")
        self._tr = array("i")
        self._sp = array("i")
        self._par = array("i")
        self._op = array("i")
        self._ev = array("i")
        self._flags = array("B")
        self._sub: dict[int, int] = {}
        self._error_seqs = array("q")
        self.ids = _Interner()
        self.names = _Interner(_NAME_CAP)
        self._sources: list[str] = []
        self._source_ids: dict[str, int] = {}
        self._files = RawFiles(spill_dir)
        self._reparse = reparse
        self._attrs_of = attrs_of
        self._attrs_cache = attrs_cache
        self._attrs: OrderedDict[int, Mapping[str, Any]] = OrderedDict()
        self._errors_cache: OrderedDict[int, ErrorInfo | None] = OrderedDict()
        self._order = array("q")
        self._ordered = False  # False while arrival order is the display order
        self._order_dirty = False
        self._order_upto = 0
        self._max_ts = float("-inf")
        self.order_epoch = 0
        """Bumped whenever new records did not land at the end of ``time_order()``."""

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
        first = self.end_seq
        lines = batch.lines
        locations = self._files.place(batch.path, batch.file_id, lines, batch.offsets)
        if not pairs:
            return _empty(first, lines)
        a = transpose(first, pairs, lines)
        if a.one_per_line:
            return self._add(source, a, locations, list(map(len, lines)))
        idxs = a.line_index
        return self._add(source, a, [locations[i] for i in idxs], [len(lines[i]) for i in idxs])

    def register_file(self, path: str, file_id: str = "") -> int | None:
        """Open ``path`` for re-reading; return the location base for its offsets (None if unreadable)."""
        index = self._files.register(path, file_id)
        return None if index is None else index << FILE_SHIFT

    def append_columns(
        self, source: int, columns: Appended, base: int, offsets: Sequence[int], lengths: Sequence[int]
    ) -> Appended:
        """Index a batch transposed elsewhere (a worker process); its lines are at ``base + offsets``."""
        if not columns.count:
            return columns
        a = replace(columns, first_seq=self.end_seq, new_errors=[], new_criticals=[])
        return self._add(source, a, [base + o for o in offsets] if base else offsets, lengths)

    def _add(self, source: int, a: Appended, locations: Sequence[int], lengths: Sequence[int]) -> Appended:
        first = a.first_seq
        ts, levels, events, raws, errs = a.ts, a.levels, a.events, a.raws, a.errors
        n = len(ts)
        self._off.extend(array("q", locations))
        self._len.extend(array("I", lengths))
        if not a.one_per_line:
            self._note_subrecords(first, a.line_index)
        self._ts.extend(array("d", ts))
        self._lvl.frombytes(a.level_bytes)
        self._src.extend(array("H", [source]) * n)
        ids = self.ids.__getitem__
        # array(list(map(...))) is about twice as fast as array(map(...)) or extend(map(...)).
        self._tr.extend(array("i", list(map(ids, a.trace_ids))))
        self._sp.extend(array("i", list(map(ids, a.span_ids))))
        self._par.extend(array("i", list(map(ids, a.parent_ids))))
        names = self.names.__getitem__
        op_ids = array("i", list(map(names, a.ops)))
        n_raw = raws.count(True)
        if n_raw:
            self.raw_count += n_raw
            ev_ids = array("i", [-1 if r else names(e) for e, r in zip(events, raws, strict=True)])
        else:
            ev_ids = array("i", list(map(names, events)))
        self._op.extend(op_ids)
        self._ev.extend(ev_ids)
        n_err = n - errs.count(None)
        capped = len(self.names.strings) >= _NAME_CAP and (_NO_NAME in op_ids or _NO_NAME in ev_ids)
        if n_raw or n_err or a.inferred.count(True) or capped:
            self._flags.extend(_flags(raws, a.inferred, errs, op_ids, ev_ids))
        else:
            self._flags.frombytes(bytes(n))
        if max(a.level_bytes) >= Level.ERROR:
            a.new_errors.extend(first + k for k, lv in enumerate(levels) if lv >= Level.ERROR)
            a.new_criticals.extend(s for s in a.new_errors if levels[s - first] >= Level.CRITICAL)
            self._error_seqs.extend(a.new_errors)
        self._note_order(first, ts, a.ts_sorted)
        self._evict()
        return a

    def _note_subrecords(self, first: int, idxs: Sequence[int]) -> None:
        previous = -1
        sub = 0
        for k, i in enumerate(idxs):
            sub = sub + 1 if i == previous else 0
            if sub:
                self._sub[first + k] = sub
            previous = i

    def _note_order(self, first: int, ts: Sequence[float], ts_sorted: bool) -> None:
        in_order = ts_sorted and ts[0] >= self._max_ts
        top = max(ts)
        self._max_ts = max(self._max_ts, top)
        if not self._ordered:
            if len(self._sources) > 1 and not in_order:
                self._ordered = True
                self._order_dirty = True
                self.order_epoch += 1
        elif in_order and not self._order_dirty:
            self._order.extend(range(first, first + len(ts)))
            self._order_upto = first + len(ts)
        else:
            self._order_dirty = True
            self.order_epoch += 1

    # -- eviction ---------------------------------------------------------------------------

    def _evict(self) -> None:
        limit = self.max_records
        if limit is None or len(self) <= limit:
            return
        drop = len(self) - limit
        self.first_seq += drop
        self.evicted += drop
        if self._ordered:
            self._order_dirty = True
        dead = self.first_seq - self._base
        if dead >= max(limit // 4, 1024):
            self._compact(dead)

    def _compact(self, dead: int) -> None:
        for column in (
            self._off, self._len, self._ts, self._lvl, self._src, self._tr, self._sp, self._par,
            self._op, self._ev, self._flags,
        ):  # fmt: skip
            del column[:dead]
        self._base += dead
        del self._error_seqs[: bisect_left(self._error_seqs, self.first_seq)]
        if self._sub:
            self._sub = {s: v for s, v in self._sub.items() if s >= self.first_seq}
        if len(self.ids.strings) > 2 * len(self) + 1024:
            self._rebuild_ids()

    def _rebuild_ids(self) -> None:
        # Ids of evicted records would otherwise pile up forever while following.
        old = self.ids.strings
        fresh = _Interner()
        for column in (self._tr, self._sp, self._par):
            remapped = array("i", [fresh[old[i]] if i >= 0 else -1 for i in column])
            column[:] = remapped
        self.ids = fresh

    # -- reading ----------------------------------------------------------------------------

    def _pos(self, seq: int) -> int:
        if not self.first_seq <= seq < self.end_seq:
            raise IndexError(f"seq {seq} is not in the store ({self.first_seq}..{self.end_seq - 1})")
        return seq - self._base

    def ts(self, seq: int) -> float:
        """Event time of ``seq``."""
        return self._ts[self._pos(seq)]

    def level(self, seq: int) -> Level:
        """Level of ``seq``."""
        return _LEVELS[self._lvl[self._pos(seq)]] or Level.INFO

    def trace_id(self, seq: int) -> str | None:
        """Trace id of ``seq``, if any."""
        return self.ids.lookup(self._tr[self._pos(seq)])

    def source_of(self, seq: int) -> int:
        """Source id of ``seq``."""
        return self._src[self._pos(seq)]

    def record(self, seq: int) -> Record:
        """Materialise ``seq`` as a Record (from the columns; the line is re-parsed only when needed)."""
        i = self._pos(seq)
        flags = self._flags[i]
        ids = self.ids.strings
        names = self.names.strings
        tr, sp, par, op, ev = self._tr[i], self._sp[i], self._par[i], self._op[i], self._ev[i]
        event: str | None = names[ev] if ev >= 0 else None
        op_name = names[op] if op >= 0 else None
        error = None
        if flags & (_REPARSE | _HAS_ERROR | _RAW) or event is None:
            parsed = self._parsed_again(seq, i)
            if event is None:
                event = parsed.event if parsed is not None else self._raw_text(i)
            if op == _NO_NAME and parsed is not None:
                op_name = parsed.op
            if flags & _HAS_ERROR:
                error = self._error(seq, parsed)
        location = self._off[i]
        return Record(
            seq=seq,
            ts=self._ts[i],
            level=_LEVELS[self._lvl[i]] or Level.INFO,
            event=event,
            trace_id=ids[tr] if tr >= 0 else None,
            span_id=ids[sp] if sp >= 0 else None,
            parent_span_id=ids[par] if par >= 0 else None,
            op=op_name,
            error=error,
            source=self._src[i],
            offset=location & OFFSET_MASK,
            length=self._len[i],
            raw=bool(flags & _RAW),
            ts_inferred=bool(flags & _INFERRED),
        )

    def _raw_text(self, i: int) -> str:
        return self._files.read(self._off[i], self._len[i]).decode("utf-8", "replace")

    def _parsed_again(self, seq: int, i: int) -> ParsedLike | None:
        if self._reparse is None:
            return None
        found = self._reparse(self._src[i], self._files.read(self._off[i], self._len[i]))
        sub = self._sub.get(seq, 0)
        return found[sub] if sub < len(found) else None

    def _error(self, seq: int, parsed: ParsedLike | None) -> ErrorInfo | None:
        cache = self._errors_cache
        if seq in cache:
            cache.move_to_end(seq)
            return cache[seq]
        error = parsed.error if parsed is not None else None
        cache[seq] = error
        if len(cache) > self._attrs_cache:
            cache.popitem(last=False)
        return error

    def raw(self, seq: int) -> bytes:
        """The original line bytes of ``seq``."""
        i = self._pos(seq)
        return self._files.read(self._off[i], self._len[i])

    def raw_many(self, seqs: Sequence[int]) -> Iterator[bytes]:
        """The original bytes of many records, read in large blocks (fast when seqs ascend)."""
        base = self._base
        off, ln = self._off, self._len
        return self._files.read_many([off[s - base] for s in seqs], [ln[s - base] for s in seqs])

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
            if raw is None:
                raw = self._files.read(self._off[i], self._len[i])
            found = self._attrs_of(raw, self._sub.get(seq, 0))
        if cache:
            lru[seq] = found
            if len(lru) > self._attrs_cache:
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
        start = max(lo, self.first_seq) - self._base
        stop = (self.end_seq if hi is None else min(hi + 1, self.end_seq)) - self._base
        base = self._base
        column = self._tr
        out: list[int] = []
        i = start - 1
        while True:
            try:
                i = column.index(tid, i + 1, stop)
            except ValueError:
                return out
            out.append(i + base)

    def trace_index(self, trace_id: str) -> int | None:
        """The interned id of a trace id (comparable with ``trace_column``)."""
        return self.ids.get(trace_id)

    @property
    def columns_base(self) -> int:
        """Seq of the first row still held in the columns (rows before ``first_seq`` are evicted)."""
        return self._base

    @property
    def level_column(self) -> Sequence[int]:
        """Per-row level values; row ``seq - columns_base``."""
        return self._lvl

    @property
    def trace_column(self) -> Sequence[int]:
        """Per-row interned trace ids (-1 for none); row ``seq - columns_base``."""
        return self._tr

    # -- display order ----------------------------------------------------------------------

    def time_order(self) -> Sequence[int]:
        """Seqs in display order: arrival order for one source, merged by time (stable) for several."""
        if not self._ordered:
            return range(self.first_seq, self.end_seq)
        if self._order_dirty:
            self._rebuild_order()
        return self._order

    @property
    def arrival_ordered(self) -> bool:
        """True while display order is plain arrival (seq) order."""
        return not self._ordered

    def _rebuild_order(self) -> None:
        ts = self._ts
        base = self._base
        first = self.first_seq
        seqs = [s for s in self._order if s >= first]
        seqs.extend(range(max(self._order_upto, first), self.end_seq))
        # Timsort finds the already sorted run and merges the new tail into it in about linear time.
        seqs.sort(key=lambda s: ts[s - base])
        self._order = array("q", seqs)
        self._order_upto = self.end_seq
        self._order_dirty = False

    def close(self) -> None:
        """Release file descriptors and the spill file."""
        self._files.close()


def _flags(
    raws: Sequence[bool],
    infs: Sequence[bool],
    errs: Sequence[ErrorInfo | None],
    op_ids: Sequence[int],
    ev_ids: Sequence[int],
) -> bytes:
    out = bytearray(len(raws))
    for k, (r, inf, err, op, ev) in enumerate(zip(raws, infs, errs, op_ids, ev_ids, strict=True)):
        flag = 0
        if r:
            flag = _RAW | _REPARSE
        if inf:
            flag |= _INFERRED
        if err is not None:
            flag |= _HAS_ERROR | _REPARSE
        if _NO_NAME in (op, ev):
            flag |= _REPARSE
        out[k] = flag
    return bytes(out)


def transpose(first: int, pairs: Sequence[tuple[int, ParsedLike]], lines: Sequence[bytes]) -> Appended:
    """Turn parsed records into per-field lists."""
    idxs = [pair[0] for pair in pairs]
    parsed = [pair[1] for pair in pairs]
    # One comprehension per field is the fastest transpose in CPython (zip(*...) is 4x slower).
    ts = [p.ts for p in parsed]
    levels = [p.level for p in parsed]
    n = len(ts)
    return Appended(
        first_seq=first,
        ts=ts,
        levels=levels,
        events=[p.event for p in parsed],
        trace_ids=[p.trace_id for p in parsed],
        span_ids=[p.span_id for p in parsed],
        parent_ids=[p.parent_span_id for p in parsed],
        ops=[p.op for p in parsed],
        errors=[p.error for p in parsed],
        raws=[p.raw for p in parsed],
        parsed=parsed,
        line_index=idxs,
        lines=lines,
        new_errors=[],
        new_criticals=[],
        level_bytes=bytes(levels),
        inferred=[p.ts_inferred for p in parsed],
        one_per_line=n == len(lines) and idxs[-1] == n - 1,
        ts_sorted=n < 2 or sorted(ts) == ts,
    )


def _empty(first: int, lines: Sequence[bytes]) -> Appended:
    return Appended(first, (), (), (), (), (), (), (), (), (), (), (), lines, [], [])
