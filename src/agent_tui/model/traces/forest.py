"""Traces built incrementally from indexed records: per-trace summary columns, span trees on demand."""

from __future__ import annotations

import heapq
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from agent_tui.model.traces.columns import FAILED, STARTED, TraceColumns
from agent_tui.model.traces.spans import Span, build_spans
from agent_tui.schema import Level

if TYPE_CHECKING:
    from agent_tui.model.parsing.columns import Appended, AttrsOf
    from agent_tui.model.store.index import Store

__all__ = ["Span", "Trace", "TraceForest", "TraceStatus", "failing_span"]

TraceStatus = Literal["ok", "error", "critical", "running"]
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
        if f._errors[i] or f._flags[i] & FAILED:
            return "error"
        if f._flags[i] & STARTED and f._open[i] > 0:
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


@dataclass(frozen=True, slots=True)
class Rollup:
    """What ``stats`` reports of all traces (see ``TraceForest.rollup``)."""

    count: int
    failed: int
    """Traces whose status is error or critical."""
    running: int
    totals: dict[str, float]
    """``amount_usdc``, ``payout_usdc``, ``tokens`` and ``cost_usd`` summed over every trace."""
    slowest: list[Trace]
    costliest: list[Trace]
    """The most expensive traces among those with a cost."""


class TraceForest(TraceColumns):
    """All traces as summary columns (about 90 bytes per trace), updated per batch.

    The columns and how each batch folds into them are in ``TraceColumns``; span trees are built from the
    store when asked for, and cached.
    """

    def __init__(self, store: Store, attrs_of: AttrsOf | None = None) -> None:
        super().__init__(store, attrs_of)
        self._sorted: list[Trace] | None = None
        self._trees: OrderedDict[str, tuple[tuple[int, int], list[Span], dict[int, Span]]] = OrderedDict()

    def add(self, batch: Appended) -> set[str]:
        """Fold one appended batch into the summaries; return the ids of the traces it touched."""
        touched = self._fold(batch)
        self._sorted = None
        return touched

    def get(self, trace_id: str) -> Trace | None:
        """The trace with this id, if seen (and not evicted)."""
        return Trace(self, trace_id) if trace_id in self._index else None

    def traces(self) -> list[Trace]:
        """All traces, newest activity first."""
        if self._sorted is None:
            ids = self._ids
            self._sorted = [Trace(self, ids[i]) for i in self._newest_first()]  # type: ignore[arg-type]
        return self._sorted

    def _newest_first(self) -> list[int]:
        return sorted(self._index.values(), key=self._last.__getitem__, reverse=True)

    def rollup(self, top: int) -> Rollup:
        """Counts, totals and the slowest and costliest traces, read straight from the columns.

        The same numbers as reading each ``Trace`` of ``traces()`` (sums in that order, ties in it), at a
        fraction of the cost: ``stats`` on 1 M lines spent 0.7 s in the properties.
        """
        live = self._newest_first()
        ids, start, end, cost = self._ids, self._start, self._end, self._cost
        criticals, errors, flags, open_ = self._criticals, self._errors, self._flags, self._open
        failed = [i for i in live if criticals[i] or errors[i] or flags[i] & FAILED]
        gone = set(failed)
        running = sum(1 for i in live if i not in gone and flags[i] & STARTED and open_[i] > 0)
        slowest = heapq.nlargest(top, live, key=lambda i: (end[i] - start[i]) * 1000.0)
        costliest = heapq.nlargest(top, [i for i in live if cost[i]], key=cost.__getitem__)
        totals = {
            name: sum(v or 0 for v in map(column.__getitem__, live))
            for name, column in (
                ("amount_usdc", self._amount),
                ("payout_usdc", self._payout),
                ("tokens", self._tokens),
                ("cost_usd", cost),
            )
        }
        return Rollup(
            count=len(live),
            failed=len(failed),
            running=running,
            totals=totals,
            slowest=[Trace(self, ids[i]) for i in slowest],  # type: ignore[arg-type]
            costliest=[Trace(self, ids[i]) for i in costliest],  # type: ignore[arg-type]
        )

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
        roots, by_seq = build_spans(store.records(seqs))
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
