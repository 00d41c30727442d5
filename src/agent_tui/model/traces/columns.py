"""Per-trace summary columns, folded from each appended batch with C-level passes."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress, repeat
from operator import eq, is_, itemgetter, not_
from typing import TYPE_CHECKING, Any, TypeVar

from agent_tui.model.parsing.columns import Interner, SpanValues
from agent_tui.model.parsing.native import compiled
from agent_tui.model.traces.sums import sum_candidates, sum_values
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

per_trace: Callable[..., tuple[dict[Any, Any], ...]] | None = compiled("per_trace")
"""``_rowscan.per_trace``: ``_PerTrace``'s passes in one compiled pass, None where it was not built."""

if TYPE_CHECKING:
    from agent_tui.model.parsing.columns import Appended, AttrsOf
    from agent_tui.model.store.index import Store

__all__ = ["FAILED", "STARTED", "TraceColumns"]

T = TypeVar("T")
_CRITICAL = int(Level.CRITICAL)
STARTED = 1
"""Trace flag: a ``trace.start`` line was seen."""
FAILED = 2
"""Trace flag: a ``trace.failed`` line was seen."""
_ROOT_OP = 4
_EQUAL = [bytes(1 if v == level else 0 for v in range(256)) for level in range(256)]
"""Translation tables marking the bytes equal to one level."""
_SPAN_LINES = frozenset({EVENT_TRACE_START, EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED})


class TraceColumns:
    """The per-trace columns of a :class:`~agent_tui.model.traces.forest.TraceForest` and how batches fold in.

    Per-trace counts, first/last seq and time come from C-level passes over each batch (Counter,
    dict(zip)); only error records, span start/end lines and lines mentioning money or tokens are
    visited one by one.
    """

    def __init__(self, store: Store, attrs_of: AttrsOf | None = None) -> None:
        self.store = store
        self._attrs_of = attrs_of
        self._index: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._count = array("I")
        self._first = array("q")
        self._last = array("q")
        self._start = array("d")
        self._end = array("d")
        self._errors = array("I")
        self._criticals = array("I")
        self._open = array("i")
        self._flags = array("B")
        self._worst = array("B")
        self._op = array("i")
        self._amount = array("d")
        self._payout = array("d")
        self._cost = array("d")
        self._tokens = array("q")
        self._ops = Interner()
        self._marked: tuple[Appended, tuple[list[int], list[int], list[int]]] | None = None

    def __len__(self) -> int:
        return len(self._index)

    def _new(self, fresh: list[str], b: _PerTrace, first: int) -> None:
        """Add columns for traces first seen in this batch, already holding the batch's values."""
        m = len(fresh)
        base = len(self._ids)
        rows = range(base, base + m)
        # Rows are numbered as the store numbers trace ids (both in order of first sight) until either is
        # compacted: then the store's int objects serve as the values (74 k traces of 1 M lines: 2.4 MB).
        same = list(map(self.store.ids.get, fresh, repeat(-1)))
        self._index.update(zip(fresh, same if same == list(rows) else rows, strict=True))
        self._ids.extend(fresh)
        zeros = bytes(m)
        for column in (self._errors, self._criticals, self._tokens):
            column.frombytes(zeros * column.itemsize)
        self._count.extend(array("I", list(map(b.counts.__getitem__, fresh))))
        self._first.extend(array("q", [first + b.first_k[t] for t in fresh]))
        self._last.extend(array("q", [first + b.last_k[t] for t in fresh]))
        self._start.extend(array("d", list(map(b.lo.__getitem__, fresh))))
        self._end.extend(array("d", list(map(b.hi.__getitem__, fresh))))
        self._worst.extend(array("B", list(map(b.top.__getitem__, fresh))))
        opens, closes = b.opens, b.closes
        if opens or closes:
            self._open.extend(array("i", [opens.get(t, 0) - closes.get(t, 0) for t in fresh]))
            flags = [STARTED if t in opens else 0 for t in fresh]
            for j in compress(range(m), map(b.failed.__contains__, fresh)):
                flags[j] |= FAILED
            names = [-1] * m
            if b.first_start:
                self._name_fresh(fresh, b, names, flags)
            self._flags.extend(array("B", flags))
            self._op.extend(array("i", names))
        else:
            self._open.frombytes(zeros * self._open.itemsize)
            self._flags.frombytes(zeros)
            self._op.extend(array("i", [-1]) * m)
        for sums in (self._amount, self._payout, self._cost):
            sums.frombytes(zeros * 8)

    def _name_fresh(self, fresh: list[str], b: _PerTrace, names: list[int], flags: list[int]) -> None:
        """A new trace is named by its first real root span's op, else by its first start's op."""
        first_start, first_root, ops, op_ids = b.first_start, b.first_root, b.ops, self._ops
        for j, tid in enumerate(fresh):
            k = first_root.get(tid)
            if k is not None and ops[k] is not None:
                names[j] = op_ids[ops[k]]
                flags[j] |= _ROOT_OP
                continue
            k = first_start.get(tid)
            if k is not None and ops[k] is not None:
                names[j] = op_ids[ops[k]]

    def _fold(self, batch: Appended) -> set[str]:
        """Fold one appended batch into the summaries; return the ids of the traces it touched."""
        tids = batch.trace_ids
        n = len(tids)
        if not n or (tids[0] is None and tids.count(None) == n):  # count() compares every id with None
            self._marked = None
            return set()
        first = batch.first_seq
        b = _PerTrace(batch, self.span_lines(batch))
        index = self._index
        fresh = [t for t in b.counts if t not in index]
        if len(fresh) < len(b.counts):
            self._fold_known(b.counts.keys() - fresh, b, first)  # type: ignore[arg-type]
        if fresh:
            self._new(fresh, b, first)  # type: ignore[arg-type]
        self._count_errors(batch)
        self._sums(batch)
        return set(b.counts)  # type: ignore[arg-type]

    def _fold_known(self, known: Iterable[str], b: _PerTrace, first: int) -> None:
        """Fold the batch into traces seen in earlier batches."""
        index = self._index
        count, last, start, end, worst = self._count, self._last, self._start, self._end, self._worst
        opened, flags = self._open, self._flags
        for tid in known:
            i = index[tid]
            count[i] += b.counts[tid]
            last[i] = first + b.last_k[tid]
            start[i] = min(start[i], b.lo[tid])
            end[i] = max(end[i], b.hi[tid])
            worst[i] = max(worst[i], b.top[tid])
            if tid in b.opens or tid in b.closes:
                opened[i] += b.opens.get(tid, 0) - b.closes.get(tid, 0)
                flags[i] |= (STARTED if tid in b.opens else 0) | (FAILED if tid in b.failed else 0)
                self._name_known(tid, i, b)

    def _name_known(self, tid: str, i: int, b: _PerTrace) -> None:
        """The first start names a trace, unless a real root span (id, no parent) turns up later."""
        ops, flags, names = b.ops, self._flags, self._op
        root = b.first_root.get(tid)
        for k in (b.first_start.get(tid), root):
            if k is None or ops[k] is None:
                continue
            is_root = k == root
            if names[i] < 0 or (is_root and not flags[i] & _ROOT_OP):
                names[i] = self._ops[ops[k]]
                if is_root:
                    flags[i] |= _ROOT_OP

    def _count_errors(self, batch: Appended) -> None:
        first = batch.first_seq
        for seq in batch.new_errors:
            tid = batch.trace_ids[seq - first]
            if tid is not None:
                i = self._index[tid]
                self._errors[i] += 1
                if batch.levels[seq - first] >= _CRITICAL:
                    self._criticals[i] += 1

    def span_lines(self, batch: Appended) -> tuple[list[int], list[int], list[int]]:
        """Indices of the batch's ``trace.start``, ``trace.complete`` and ``trace.failed`` records.

        Worked out once per batch (the flags read them too, right after the fold).
        """
        if self._marked is not None and self._marked[0] is batch:
            return self._marked[1]
        events = batch.events
        marks = list(compress(range(len(events)), map(_SPAN_LINES.__contains__, events)))
        found: tuple[list[int], list[int], list[int]] = ([], [], [])
        if marks:
            names = list(map(events.__getitem__, marks))
            found = tuple(  # type: ignore[assignment]
                list(compress(marks, map(eq, names, repeat(name))))
                for name in (EVENT_TRACE_START, EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED)
            )
        self._marked = (batch, found)
        return found

    def _sums(self, batch: Appended) -> None:
        tids, index = batch.trace_ids, self._index
        shipped = batch.shipped_sums
        if shipped is not None:
            amounts, payouts, costs, tokens = self._amount, self._payout, self._cost, self._tokens
            for k, (amount, payout, cost, used) in shipped.items():
                tid = tids[k]
                if tid is not None:
                    # Zeros are skipped: a sum is never -0.0, so adding a zero never changes it.
                    i = index[tid]
                    if amount:
                        amounts[i] += amount
                    if payout:
                        payouts[i] += payout
                    if cost:
                        costs[i] += cost
                    if used:
                        tokens[i] += used
            return
        for k, attrs in sum_candidates(batch, self._attrs_of):
            tid = tids[k]
            if tid is not None:
                self.add_sums(index[tid], *sum_values(attrs))

    def add_sums(self, index: int, amount: float, payout: float, cost: float, tokens: int) -> None:
        """Add money and tokens to trace ``index`` (the ``Sums`` protocol)."""
        self._amount[index] += amount
        self._payout[index] += payout
        self._cost[index] += cost
        self._tokens[index] += tokens


class _PerTrace:
    """What one batch says about each trace in it, worked out in C-level passes over its columns."""

    __slots__ = (
        "closes", "counts", "failed", "first_k", "first_root", "first_start", "hi", "last_k", "lo", "opens",
        "ops", "top",
    )  # fmt: skip

    def __init__(self, batch: Appended, span_lines: tuple[list[int], list[int], list[int]]) -> None:
        tids = batch.trace_ids
        levels = batch.level_bytes or bytes(batch.levels)
        self.counts: dict[str | None, int]
        self.last_k: dict[str | None, int]
        self.first_k: dict[str | None, int]
        self.lo: dict[str | None, float]
        self.hi: dict[str | None, float]
        self.top: dict[str | None, int]
        if per_trace is not None:
            # One compiled pass (the passes below took 0.24 us a record of stats' 1.2 us fold).
            self.counts, self.last_k, self.first_k, self.lo, self.hi, self.top = per_trace(
                tids, batch.ts, levels, batch.ts_sorted
            )
        else:
            ks = range(len(tids))
            counts = Counter(tids)
            del counts[None]
            self.counts = counts
            self.last_k = dict(zip(tids, ks, strict=True))
            self.first_k = dict(zip(reversed(tids), reversed(ks), strict=True))
            ts = batch.ts
            if batch.ts_sorted:
                # A trace's earliest and latest times in a sorted batch: those of its first and last record.
                self.lo = dict(zip(self.first_k, map(ts.__getitem__, self.first_k.values()), strict=True))
                self.hi = dict(zip(self.last_k, map(ts.__getitem__, self.last_k.values()), strict=True))
            else:
                self.lo, self.hi = _min_max(tids, ts)
            self.top = _worst_levels(tids, self.counts, levels)
        starts, completes, fails = span_lines
        self.opens: Counter[str | None] = Counter(map(tids.__getitem__, starts))
        self.closes: Counter[str | None] = Counter(map(tids.__getitem__, completes))
        self.failed = set(map(tids.__getitem__, fails))
        if fails:
            self.closes.update(map(tids.__getitem__, fails))
        self.ops = batch.ops
        self.first_start: dict[str | None, int] = {}
        self.first_root: dict[str | None, int] = {}
        if starts:
            self.first_start = _first_per_trace(tids, starts)
            no_parent = list(compress(starts, _absent(batch.parent_ids, starts)))
            if no_parent:
                roots = list(compress(no_parent, map(not_, _absent(batch.span_ids, no_parent))))
                self.first_root = _first_per_trace(tids, roots)


def _worst_levels(
    tids: Sequence[str | None], traces: Iterable[str | None], levels: bytes
) -> dict[str | None, int]:
    """Each trace's most severe level in the batch: one C-level pass per distinct level above the lowest."""
    lowest, *higher = sorted(set(levels))
    # Every trace of the batch has a record at the lowest level or above: no pass for that level.
    top: dict[str | None, int] = dict.fromkeys(traces, lowest)
    for level in higher:
        top.update(zip(compress(tids, levels.translate(_EQUAL[level])), repeat(level)))
    return top


def _first_per_trace(tids: Sequence[str | None], picks: list[int]) -> dict[str | None, int]:
    """The first of ``picks`` for each trace id."""
    return dict(zip(reversed([tids[k] for k in picks]), reversed(picks), strict=True))


def _absent(ids: Sequence[str | None], picks: list[int]) -> Iterator[bool]:
    """Whether each picked id is None, in one C-level pass (ids may be encoded ``SpanValues``)."""
    if isinstance(ids, SpanValues):
        return map(eq, _pick(ids.values, picks), repeat(0))
    return map(is_, _pick(ids, picks), repeat(None))


def _pick(values: Sequence[T], picks: list[int]) -> tuple[T, ...]:
    picked = itemgetter(*picks)(values)
    return picked if len(picks) > 1 else (picked,)


def _min_max(
    tids: Sequence[str | None], ts: Sequence[float]
) -> tuple[dict[str | None, float], dict[str | None, float]]:
    lo: dict[str | None, float] = {}
    hi: dict[str | None, float] = {}
    for tid, t in zip(tids, ts, strict=True):
        if tid is None:
            continue
        if t < lo.get(tid, t + 1.0):
            lo[tid] = t
        if t > hi.get(tid, t - 1.0):
            hi[tid] = t
    return lo, hi
