"""The seqs that pass a filter and a minimum level, in display order, kept up to date batch by batch."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import compress
from typing import TYPE_CHECKING, Any, overload

from agent_tui.model.query.analysis import reads_spans
from agent_tui.model.query.compiler import Predicate, compile_node
from agent_tui.model.query.filter import Filter
from agent_tui.model.record import Record
from agent_tui.model.views.colfilter import column_bits, split_and
from agent_tui.schema import Level

if TYPE_CHECKING:
    from agent_tui.model.session import IngestResult, LogModel
    from agent_tui.model.store.index import Store

__all__ = ["FilteredView", "StoreSubject", "filter_bits"]


class StoreSubject:
    """One stored record as a filter sees it: record, attrs and raw bytes fetched only when read.

    ``spans=False`` is for a filter that never reads span ids: its record leaves them None rather
    than re-parse the line for them (see ``Store.record``).
    """

    __slots__ = ("_raw", "_record", "_spans", "_store", "seq")

    def __init__(self, store: Store, seq: int, raw: bytes | None = None, *, spans: bool = True) -> None:
        self._store = store
        self.seq = seq
        self._raw = raw
        self._spans = spans
        self._record: Record | None = None

    @property
    def record(self) -> Record:
        """The normalised record."""
        if self._record is None:
            self._record = self._store.record(self.seq, spans=self._spans)
        return self._record

    @property
    def attrs(self) -> Mapping[str, Any]:
        """The attribute mapping (not cached in the store's LRU: scans would only churn it)."""
        return self._store.attrs(self.seq, raw=self._raw, cache=False)

    @property
    def raw(self) -> bytes:
        """The original line bytes."""
        if self._raw is None:
            self._raw = self._store.raw(self.seq)
        return self._raw


class FilteredView:
    """Seqs passing ``(filter, min_level)`` in ``Store.time_order()``; ``update`` after every ingest.

    A pass bit per stored record is kept, so a reorder (a batch landing mid-order) or an eviction only
    re-walks the order; the filter runs once per record. Trace-scoped filters (``trace:(...)``) keep
    every record of each trace that has a record matching the inner filter, including earlier records
    when a trace starts matching later.
    """

    def __init__(self, model: LogModel, filter: Filter | None = None, min_level: Level | None = None) -> None:
        self.model = model
        self.store = model.store
        self._filter = filter
        self._min_level = min_level
        self._seqs = array("q")
        self._epoch = self.store.order_epoch
        self._matched: set[int] = set()
        self._pass = bytearray()
        self._base = self.store.columns_base
        self._upto = self.store.first_seq
        self._dirty = True
        self._recompute()

    # -- configuration ----------------------------------------------------------------------

    @property
    def filter(self) -> Filter | None:
        """The current filter (None keeps everything)."""
        return self._filter

    @property
    def min_level(self) -> Level | None:
        """The current minimum level (None keeps every level)."""
        return self._min_level

    def set_filter(self, filter: Filter | None) -> None:
        """Replace the filter and recompute (raw-byte prefilter first, attributes parsed only if needed)."""
        self._filter = filter
        self._recompute()

    def set_min_level(self, level: Level | None) -> None:
        """Replace the minimum level and recompute."""
        self._min_level = level
        self._recompute()

    # -- sequence protocol ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._view())

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        seqs = self._view()
        if isinstance(index, slice):
            return list(seqs[index])
        return seqs[index]

    def __iter__(self) -> Iterator[int]:
        return iter(self._view())

    def index_of(self, seq: int) -> int | None:
        """Position of ``seq`` in the view, or None if it is not shown."""
        seqs = self._view()
        if self._ascending:
            i = bisect_left(seqs, seq)
            return i if i < len(seqs) and seqs[i] == seq else None
        try:
            return seqs.index(seq)
        except ValueError:
            return None

    # -- navigation -------------------------------------------------------------------------

    def next_error(self, from_index: int, direction: int = 1, *, wrap: bool = True) -> int | None:
        """Index of the next record at error level or above after ``from_index`` (before, if direction < 0).

        Wraps around the ends when ``wrap``; None when the view holds no error.
        """
        seqs = self._view()
        if not len(seqs):
            return None
        if not self._ascending:
            base = self.store.columns_base
        else:
            return self._next_error_sorted(seqs, from_index, direction, wrap)
        levels = self.store.level_column
        return self.next_match(lambda s: levels[s - base] >= Level.ERROR, from_index, direction, wrap=wrap)

    def _next_error_sorted(
        self, seqs: Sequence[int], from_index: int, direction: int, wrap: bool
    ) -> int | None:
        errors = self.store.error_seqs()
        bits, base = self._pass, self._base
        n = len(seqs)
        start = max(-1, min(from_index, n))
        if direction >= 0:
            after = seqs[start] if 0 <= start < n else (seqs[0] - 1 if start < 0 else seqs[-1])
            lo = bisect_right(errors, after)
            order = [range(lo, len(errors))] + ([range(0, lo)] if wrap else [])
        else:
            before = seqs[start] if 0 <= start < n else (seqs[-1] + 1 if start >= n else seqs[0])
            hi = bisect_left(errors, before)
            order = [range(hi - 1, -1, -1)] + ([range(len(errors) - 1, hi - 1, -1)] if wrap else [])
        for span in order:
            for i in span:
                seq = errors[i]
                if bits[seq - base]:
                    return self.index_of(seq)
        return None

    def next_match(
        self, pred: Callable[[int], bool], from_index: int, direction: int = 1, *, wrap: bool = True
    ) -> int | None:
        """Index of the next seq (after/before ``from_index``) for which ``pred(seq)`` holds, or None."""
        seqs = self._view()
        n = len(seqs)
        if not n:
            return None
        step = 1 if direction >= 0 else -1
        start = max(-1, min(from_index, n))
        first = range(start + 1, n) if step > 0 else range(start - 1, -1, -1)
        spans = [first]
        if wrap:
            spans.append(range(0, min(start + 1, n)) if step > 0 else range(n - 1, max(start - 1, -1), -1))
        for span in spans:
            for i in span:
                if pred(seqs[i]):
                    return i
        return None

    # -- incremental update -----------------------------------------------------------------

    def refresh_flags(self) -> bool:
        """Re-run a filter that tests ``flag`` if flags changed since it last ran; True when it did."""
        f = self._filter
        if f is None or not f.uses_flags or self.model.flags.epoch == self._flags_seen:
            return False
        self._recompute()
        return True

    def update(self, result: IngestResult) -> None:
        """Take in the records of one ingest (cheap when they land at the end of the display order)."""
        store = self.store
        if self.refresh_flags():
            return
        self._follow_eviction()
        lo = max(self._upto, store.first_seq)
        hi = result.first_seq + result.count
        if hi <= lo:
            return
        bits = self._evaluate(lo, hi)
        earlier = self._scoped is not None and self._scope_new(lo, hi, bits)
        # Records evicted before this view saw them leave a gap: keep bit k at row k.
        gap = lo - self._base - len(self._pass)
        if gap > 0:
            self._pass.extend(bytes(gap))
        self._pass.extend(bits)
        self._upto = hi
        if self._dirty or store.order_epoch != self._epoch or earlier:
            self._dirty = True
        else:
            # through a list: array.extend takes an iterator's items one call each (144 -> 101 us a batch)
            self._seqs.fromlist(list(compress(range(lo, hi), bits)))

    # -- internals --------------------------------------------------------------------------

    @property
    def _scoped(self) -> Filter | None:
        f = self._filter
        if f is None or not f.trace_scoped:
            return None
        return f.inner or f

    @property
    def _ascending(self) -> bool:
        return self.store.arrival_ordered

    def _recompute(self) -> None:
        store = self.store
        self._flags_seen = self.model.flags.epoch
        self._base = store.columns_base
        self._matched = set()
        self._pass = bytearray(store.first_seq - self._base)
        self._upto = store.end_seq
        bits = self._evaluate(store.first_seq, store.end_seq)
        if self._scoped is not None:
            self._scope_new(store.first_seq, store.end_seq, bits)
        self._pass.extend(bits)
        self._dirty = True

    def _view(self) -> Sequence[int]:
        self._follow_eviction()
        if self._dirty:
            self._rebuild()
        return self._seqs

    def _rebuild(self) -> None:
        store = self.store
        order = store.time_order()
        bits, base = self._pass, self._base
        if isinstance(order, range):
            start = order.start - base
            self._seqs = array("q", compress(order, bits[start : start + len(order)]))
        else:
            self._seqs = array("q", [s for s in order if bits[s - base]])
        self._epoch = store.order_epoch
        self._dirty = False

    def _follow_eviction(self) -> None:
        store = self.store
        if store.columns_base != self._base:
            del self._pass[: store.columns_base - self._base]
            self._base = store.columns_base
        if not self._dirty and len(self._seqs) and self._seqs[0] < store.first_seq:
            if self._ascending:
                del self._seqs[: bisect_left(self._seqs, store.first_seq)]
            else:
                self._dirty = True
        elif not self._dirty and not self._ascending and store.order_epoch != self._epoch:
            self._dirty = True

    def _level_bits(self, lo: int, hi: int) -> bytearray:
        if self._min_level is None:
            return bytearray(b"\x01") * (hi - lo)
        table = bytes(1 if v >= self._min_level else 0 for v in range(256))
        base = self.store.columns_base
        column = self.store.level_column
        assert isinstance(column, array)
        return bytearray(column[lo - base : hi - base].tobytes().translate(table))

    def _evaluate(self, lo: int, hi: int) -> bytearray:
        """Pass bits for seqs ``lo..hi-1`` (level and, unless trace-scoped, the filter)."""
        bits = self._level_bits(lo, hi)
        f = self._filter
        if f is None or f.trace_scoped or _matches_all(f):
            return bits
        return filter_bits(self.store, f, lo, hi, bits)

    def _scope_new(self, lo: int, hi: int, bits: bytearray) -> bool:
        """Trace scope: find traces newly matching in ``lo..hi-1`` and mark their records.

        Returns True when records before ``lo`` became visible.
        """
        inner = self._scoped
        assert inner is not None
        store = self.store
        base = store.columns_base
        traces = store.trace_column[lo - base : hi - base]
        matched = self._matched
        # Rows with a trace not yet known to match are the ones the inner filter must look at.
        open_rows = bytearray(_in_set(traces, matched, len(store.ids.strings), outside=True))
        keep = filter_bits(store, inner, lo, hi, open_rows)
        fresh = set(compress(traces, keep))
        matched |= fresh
        in_scope = _in_set(traces, matched, len(store.ids.strings), outside=False)
        n = hi - lo
        scoped = int.from_bytes(bits, "little") & int.from_bytes(in_scope, "little")
        bits[:] = scoped.to_bytes(n, "little")
        return bool(fresh) and lo > store.first_seq and self._mark_earlier(fresh, lo)

    def _mark_earlier(self, fresh: set[int], lo: int) -> bool:
        store = self.store
        marked = False
        level_ok = self._level_bits(store.first_seq, lo)
        names = store.ids.strings
        for tid in fresh:
            trace = self.model.traces.get(names[tid])
            start = trace.first_seq if trace is not None else store.first_seq
            for seq in store.seqs_of_trace(names[tid], start, lo - 1):
                if level_ok[seq - store.first_seq]:
                    self._pass[seq - self._base] = 1
                    marked = True
        return marked


def _in_set(tids: Sequence[int], chosen: set[int], known: int, *, outside: bool) -> bytes:
    """Per row, 1 when its trace (``-1``: none) is in ``chosen`` (with ``outside``: a trace not in it)."""
    if len(tids) < known:
        # A small batch (live follow): a set lookup per row beats a table over every trace id.
        if outside:
            return bytes(0 if t < 0 or t in chosen else 1 for t in tids)
        return bytes(1 if t >= 0 and t in chosen else 0 for t in tids)
    table = [(t in chosen) != outside for t in range(known)]
    table.append(False)  # row value -1: no trace, never in scope
    return bytes(map(table.__getitem__, tids))


def _matches_all(f: Filter) -> bool:
    return f.match_all


def filter_bits(store: Store, f: Filter, lo: int, hi: int, bits: bytearray) -> bytearray:
    """``bits`` (one 0/1 byte per seq ``lo..hi-1``) cleared where ``f`` does not match.

    Conditions on normalised fields (level, ts, event, trace_id, op) of a top-level ``and`` are
    evaluated over the store's columns; the rest runs per record on the rows still set, after the
    raw-line prefilter.
    """
    cols, rest = split_and(f.ast)
    if not cols:
        candidates = list(compress(range(lo, hi), bits))
        for seq, keep in zip(candidates, _matching(store, f, candidates, f.matches), strict=True):
            if not keep:
                bits[seq - lo] = 0
        return bits
    now, flags = f.now, f.flags
    found = column_bits(store, cols, lo, hi, now, flags=flags)
    n = hi - lo
    allowed = int.from_bytes(bits, "little")
    doubt = int.from_bytes(found.unsure, "little") & allowed if found.unsure is not None else 0
    sure = int.from_bytes(found.bits, "little") & allowed & ~doubt
    out = bytearray(sure.to_bytes(n, "little"))
    if rest is not None:
        residual = compile_node(rest, now, flags)
        candidates = list(compress(range(lo, hi), out))
        for seq, keep in zip(candidates, _matching(store, f, candidates, residual), strict=True):
            if not keep:
                out[seq - lo] = 0
    if doubt:
        unsure = list(compress(range(lo, hi), doubt.to_bytes(n, "little")))
        for seq, keep in zip(unsure, _matching(store, f, unsure, f.matches), strict=True):
            if keep:
                out[seq - lo] = 1
    return out


def _prefilter(f: Filter) -> Callable[[bytes], bool] | None:
    """The raw-record test to run before the predicate (the one query and serve use), or None when it
    would reject nothing."""
    return f.may_match_line if f.prefiltered else None


def _matching(store: Store, f: Filter, seqs: list[int], predicate: Predicate) -> Iterator[bool]:
    """Whether each seq passes ``predicate``: lines ``f`` rules out by their bytes are rejected unparsed."""
    may_match = _prefilter(f)
    spans = reads_spans(f.ast)
    if may_match is not None:
        for seq, raw in zip(seqs, store.raw_many(seqs), strict=True):
            yield may_match(raw) and predicate(StoreSubject(store, seq, raw, spans=spans))
    elif not f.record_only:
        # Lines read in large blocks rather than one read per record for its attributes.
        for seq, raw in zip(seqs, store.raw_many(seqs), strict=True):
            yield predicate(StoreSubject(store, seq, raw, spans=spans))
    else:
        for seq in seqs:
            yield predicate(StoreSubject(store, seq, spans=spans))
