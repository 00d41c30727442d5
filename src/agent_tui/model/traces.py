"""Traces built incrementally from indexed records: per-trace summary columns, span trees on demand."""

from __future__ import annotations

from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from itertools import compress, repeat
from operator import eq, is_, itemgetter, not_
from typing import TYPE_CHECKING, Literal, TypeVar

from agent_tui.model.columns import Interner, SpanValues
from agent_tui.model.spans import Span, build_spans
from agent_tui.model.sums import sum_candidates, sum_values
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

if TYPE_CHECKING:
    from agent_tui.model.columns import Appended, AttrsOf
    from agent_tui.model.store import Store

__all__ = ["Span", "Trace", "TraceForest", "TraceStatus", "failing_span"]

TraceStatus = Literal["ok", "error", "critical", "running"]
T = TypeVar("T")
_CRITICAL = int(Level.CRITICAL)
_STARTED = 1
_FAILED = 2
_ROOT_OP = 4
_EQUAL = [bytes(1 if v == level else 0 for v in range(256)) for level in range(256)]
"""Translation tables marking the bytes equal to one level."""
_TREES = 256
"""Span trees kept built (per trace, rebuilt when the trace changes)."""


class Trace:
    """A live view of one trace's summary (reads the forest's columns; ``roots`` is built on demand)."""

    __slots__ = ("_forest", "trace_id")

    def __init__(self, forest: TraceForest, trace_id: str) -> None:
        self._forest = forest
        self.trace_id = trace_id

    @property
    def _i(self) -> int:
        index = self._forest._index.get(self.trace_id)
        if index is None:
            raise LookupError(f"trace {self.trace_id!r} is no longer held (its records were evicted)")
        return index

    @property
    def status(self) -> TraceStatus:
        """``critical`` > ``error`` > ``running`` (opened, not yet closed) > ``ok``."""
        f, i = self._forest, self._i
        if f._criticals[i]:
            return "critical"
        if f._errors[i] or f._flags[i] & _FAILED:
            return "error"
        if f._flags[i] & _STARTED and f._open[i] > 0:
            return "running"
        return "ok"

    @property
    def op(self) -> str | None:
        """The root span's operation (from its ``trace.start`` line, else the first root span's op)."""
        op = self._forest._op[self._i]
        if op >= 0:
            return self._forest._ops.strings[op]
        return next((root.op for root in self.roots if root.op is not None), None)

    @property
    def start(self) -> float:
        """Time of the first record, epoch seconds."""
        value: float = self._forest._start[self._i]
        return value

    @property
    def end(self) -> float:
        """Time of the latest record, epoch seconds."""
        value: float = self._forest._end[self._i]
        return value

    @property
    def first_seq(self) -> int:
        """Seq of the first record."""
        value: int = self._forest._first[self._i]
        return value

    @property
    def last_seq(self) -> int:
        """Seq of the latest record."""
        value: int = self._forest._last[self._i]
        return value

    @property
    def record_count(self) -> int:
        """Records seen."""
        value: int = self._forest._count[self._i]
        return value

    @property
    def error_count(self) -> int:
        """Records at error level or above."""
        value: int = self._forest._errors[self._i]
        return value

    @property
    def critical_count(self) -> int:
        """Critical records."""
        value: int = self._forest._criticals[self._i]
        return value

    @property
    def max_level(self) -> Level:
        """The most severe level among the trace's records (what the ``1``–``5`` keys filter on)."""
        return Level(self._forest._worst[self._i])

    @property
    def amount_usdc(self) -> float:
        """Sum of ``amount_usdc``."""
        value: float = self._forest._amount[self._i]
        return value

    @property
    def payout_usdc(self) -> float:
        """Sum of ``payout_usdc``."""
        value: float = self._forest._payout[self._i]
        return value

    @property
    def cost_usd(self) -> float:
        """Sum of ``cost_usd``."""
        value: float = self._forest._cost[self._i]
        return value

    @property
    def tokens(self) -> int:
        """Input plus output tokens (see ``sums.add_fields``)."""
        value: int = self._forest._tokens[self._i]
        return value

    @property
    def duration_ms(self) -> float:
        """Time between the trace's first and last record, in milliseconds."""
        return (self.end - self.start) * 1000.0

    @property
    def roots(self) -> list[Span]:
        """Top-level spans (orphans whose parent has not arrived are roots until it does)."""
        return self._forest._tree(self)[0]

    def span_of(self, seq: int) -> Span | None:
        """The span a record of this trace belongs to."""
        return self._forest._tree(self)[1].get(seq)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and other._forest is self._forest and other.trace_id == self.trace_id

    def __hash__(self) -> int:
        return hash(self.trace_id)

    def __repr__(self) -> str:
        return f"Trace({self.trace_id!r}, {self.status}, records={self.record_count})"


class TraceForest:
    """All traces as summary columns (about 90 bytes per trace), updated per batch.

    Per-trace counts, first/last seq and time come from C-level passes over each batch (Counter,
    dict(zip)); only error records, span start/end lines and lines mentioning money or tokens are
    visited one by one. Span trees are built from the store when asked for, and cached.
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
        self._sorted: list[Trace] | None = None
        self._trees: OrderedDict[str, tuple[tuple[int, int], list[Span], dict[int, Span]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._index)

    def _new(self, tids: list[str], first_seq: dict[str | None, int], lo: dict[str | None, float]) -> None:
        """Add columns for traces first seen in this batch (in bulk: one extend per column)."""
        m = len(tids)
        base = len(self._ids)
        self._index.update(zip(tids, range(base, base + m), strict=True))
        self._ids.extend(tids)
        zeros = bytes(m)
        for column in (
            self._count, self._errors, self._criticals, self._open, self._flags, self._worst, self._tokens,
        ):  # fmt: skip
            column.frombytes(zeros * column.itemsize)
        firsts = [first_seq[t] for t in tids]
        self._first.extend(array("q", firsts))
        self._last.extend(array("q", firsts))
        starts = array("d", [lo[t] for t in tids])
        self._start.extend(starts)
        self._end.extend(starts)
        self._op.extend(array("i", [-1]) * m)
        for sums in (self._amount, self._payout, self._cost):
            sums.frombytes(zeros * 8)

    def add(self, batch: Appended) -> set[str]:
        """Fold one appended batch into the summaries; return the ids of the traces it touched."""
        tids = batch.trace_ids
        n = len(tids)
        if not n or tids.count(None) == n:
            return set()
        seqs = range(batch.first_seq, batch.first_seq + n)
        counts = Counter(tids)
        del counts[None]
        last_seq = dict(zip(tids, seqs, strict=True))
        first_seq = dict(zip(reversed(tids), reversed(seqs), strict=True))
        if batch.ts_sorted:
            lo = dict(zip(reversed(tids), reversed(batch.ts), strict=True))
            hi = dict(zip(tids, batch.ts, strict=True))
        else:
            lo, hi = _min_max(tids, batch.ts)
        index = self._index
        fresh = [t for t in counts if t not in index]
        if fresh:
            self._new(fresh, first_seq, lo)  # type: ignore[arg-type]
        count, last, start, end = self._count, self._last, self._start, self._end
        for tid, found in counts.items():
            i = index[tid]  # type: ignore[index]
            count[i] += found
            last[i] = last_seq[tid]
            start[i] = min(start[i], lo[tid])
            end[i] = max(end[i], hi[tid])
        self._count_errors(batch)
        self._raise_levels(batch)
        self._span_events(batch)
        self._sums(batch)
        self._sorted = None
        return set(counts)  # type: ignore[arg-type]

    def _count_errors(self, batch: Appended) -> None:
        first = batch.first_seq
        for seq in batch.new_errors:
            tid = batch.trace_ids[seq - first]
            if tid is not None:
                i = self._index[tid]
                self._errors[i] += 1
                if batch.levels[seq - first] >= _CRITICAL:
                    self._criticals[i] += 1

    def _raise_levels(self, batch: Appended) -> None:
        """Each trace's most severe level: one C-level pass per distinct level in the batch."""
        levels = batch.level_bytes or bytes(batch.levels)
        tids, worst, index = batch.trace_ids, self._worst, self._index
        for level in set(levels):
            for tid in set(compress(tids, levels.translate(_EQUAL[level]))):
                if tid is not None:
                    i = index[tid]
                    worst[i] = max(worst[i], level)

    def _span_events(self, batch: Appended) -> None:
        events, tids, index = batch.events, batch.trace_ids, self._index
        n = len(events)
        starts, completes, fails = (
            list(compress(range(n), map(eq, events, repeat(name))))
            for name in (EVENT_TRACE_START, EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED)
        )
        if not (starts or completes or fails):
            return
        flags, opened = self._flags, self._open
        for found, delta, flag in ((starts, 1, _STARTED), (completes, -1, 0), (fails, -1, _FAILED)):
            for tid, times in Counter([tids[k] for k in found]).items():
                if tid is not None:
                    i = index[tid]
                    opened[i] += delta * times
                    flags[i] |= flag
        self._name_traces(batch, starts)

    def _name_traces(self, batch: Appended, starts: list[int]) -> None:
        """The first start names a trace, unless a real root span (id, no parent) turns up later."""
        if not starts:
            return
        tids, ops, parents, spans = batch.trace_ids, batch.ops, batch.parent_ids, batch.span_ids
        first_start = _first_per_trace(tids, starts)
        no_parent = list(compress(starts, _absent(parents, starts)))
        roots = list(compress(no_parent, map(not_, _absent(spans, no_parent)))) if no_parent else []
        first_root = _first_per_trace(tids, roots)
        root_set = set(first_root.values())
        flags, names = self._flags, self._op
        for k in (*first_start.values(), *first_root.values()):
            tid, op = tids[k], ops[k]
            if tid is None or op is None:
                continue
            i = self._index[tid]
            is_root = k in root_set
            if names[i] < 0 or (is_root and not flags[i] & _ROOT_OP):
                names[i] = self._ops[op]
                if is_root:
                    flags[i] |= _ROOT_OP

    def _sums(self, batch: Appended) -> None:
        tids, index = batch.trace_ids, self._index
        shipped = batch.shipped_sums
        if shipped is not None:
            for k, values in shipped.items():
                tid = tids[k]
                if tid is not None:
                    self.add_sums(index[tid], *values)
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

    def get(self, trace_id: str) -> Trace | None:
        """The trace with this id, if seen (and not evicted)."""
        return Trace(self, trace_id) if trace_id in self._index else None

    def traces(self) -> list[Trace]:
        """All traces, newest activity first."""
        if self._sorted is None:
            last, ids = self._last, self._ids
            live = sorted(self._index.values(), key=last.__getitem__, reverse=True)
            self._sorted = [Trace(self, ids[i]) for i in live]  # type: ignore[arg-type]
        return self._sorted

    def trace_of(self, seq: int) -> Trace | None:
        """The trace record ``seq`` belongs to."""
        tid = self.store.trace_id(seq)
        return self.get(tid) if tid is not None else None

    def span_of(self, seq: int) -> Span | None:
        """The span record ``seq`` belongs to."""
        trace = self.trace_of(seq)
        return trace.span_of(seq) if trace is not None else None

    def failing_span(self, trace: Trace) -> Span | None:
        """The deepest failed span of ``trace`` (see ``failing_span``)."""
        return failing_span(trace)

    def _tree(self, trace: Trace) -> tuple[list[Span], dict[int, Span]]:
        store = self.store
        i = trace._i
        key = (self._last[i], store.first_seq)
        cached = self._trees.get(trace.trace_id)
        if cached is not None and cached[0] == key:
            self._trees.move_to_end(trace.trace_id)
            return cached[1], cached[2]
        seqs = store.seqs_of_trace(trace.trace_id, self._first[i], self._last[i])
        roots, by_seq = build_spans([store.record(s) for s in seqs])
        self._trees[trace.trace_id] = (key, roots, by_seq)
        if len(self._trees) > _TREES:
            self._trees.popitem(last=False)
        return roots, by_seq

    def forget_before(self, seq: int) -> int:
        """Drop traces whose records were all evicted (last record before ``seq``); return how many."""
        last = self._last
        dead = [tid for tid, i in self._index.items() if last[i] < seq]
        for tid in dead:
            self._ids[self._index.pop(tid)] = None
            self._trees.pop(tid, None)
        if dead:
            self._sorted = None
            if len(self._ids) > 2 * len(self._index) + 1024:
                self._compact()
        return len(dead)

    def _compact(self) -> None:
        keep = [i for i, tid in enumerate(self._ids) if tid is not None]
        for name in (
            "_count", "_first", "_last", "_start", "_end", "_errors", "_criticals", "_open", "_flags",
            "_worst", "_op", "_amount", "_payout", "_cost", "_tokens",
        ):  # fmt: skip
            old = getattr(self, name)
            setattr(self, name, array(old.typecode, [old[i] for i in keep]))
        self._ids = [self._ids[i] for i in keep]
        self._index = {tid: i for i, tid in enumerate(self._ids) if tid is not None}


def failing_span(trace: Trace) -> Span | None:
    """The deepest span that failed (preferring one carrying an exception), or None."""
    best: tuple[int, int, float] | None = None
    found: Span | None = None
    stack: list[tuple[Span, int]] = [(s, 0) for s in trace.roots]
    while stack:
        span, depth = stack.pop()
        stack.extend((c, depth + 1) for c in span.children)
        if span.status not in ("error", "critical"):
            continue
        key = (depth, span.error is not None, span.start)
        if best is None or key > best:
            best, found = key, span
    return found


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
