"""Traces built incrementally from indexed records: per-trace summaries now, span trees on demand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from agent_tui.model.spans import Span, build_spans
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

if TYPE_CHECKING:
    from agent_tui.model.store import Appended, AttrsOf, Store

__all__ = ["Span", "Trace", "TraceForest", "TraceStatus", "failing_span"]

TraceStatus = Literal["ok", "error", "critical", "running"]
_ERROR = int(Level.ERROR)
_CRITICAL = int(Level.CRITICAL)
_TOKEN_PAIRS = (
    ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"),
    ("input_tokens", "output_tokens"),
    ("prompt_tokens", "completion_tokens"),
)


class Trace:
    """One trace's running summary; ``roots`` (the span tree) is built from the store on first use."""

    __slots__ = (
        "_forest",
        "_open",
        "_tree",
        "amount_usdc",
        "cost_usd",
        "critical_count",
        "end",
        "error_count",
        "failed",
        "first_seq",
        "last_seq",
        "op",
        "payout_usdc",
        "record_count",
        "start",
        "started",
        "tokens",
        "trace_id",
    )

    def __init__(self, trace_id: str, forest: TraceForest, seq: int, ts: float) -> None:
        self.trace_id = trace_id
        self.op: str | None = None
        self.start = ts
        self.end = ts
        self.error_count = 0
        self.critical_count = 0
        self.record_count = 0
        self.amount_usdc = 0.0
        self.payout_usdc = 0.0
        self.tokens = 0
        self.cost_usd = 0.0
        self.first_seq = seq
        self.last_seq = seq
        self.started = False
        self.failed = False
        self._open = 0
        self._forest = forest
        self._tree: tuple[int, int, list[Span], dict[int, Span]] | None = None

    @property
    def status(self) -> TraceStatus:
        """``critical`` > ``error`` > ``running`` (opened, not yet closed) > ``ok``."""
        if self.critical_count:
            return "critical"
        if self.error_count or self.failed:
            return "error"
        if self.started and self._open > 0:
            return "running"
        return "ok"

    @property
    def duration_ms(self) -> float:
        """Time between the trace's first and last record, in milliseconds."""
        return (self.end - self.start) * 1000.0

    @property
    def roots(self) -> list[Span]:
        """Top-level spans (orphans whose parent has not arrived are roots until it does)."""
        return self._spans()[0]

    def span_of(self, seq: int) -> Span | None:
        """The span a record of this trace belongs to."""
        return self._spans()[1].get(seq)

    def _spans(self) -> tuple[list[Span], dict[int, Span]]:
        store = self._forest.store
        key = (self.last_seq, store.first_seq)
        if self._tree is None or self._tree[:2] != key:
            seqs = store.seqs_of_trace(self.trace_id, self.first_seq, self.last_seq)
            roots, by_seq = build_spans([store.record(s) for s in seqs])
            self._tree = (*key, roots, by_seq)
        return self._tree[2], self._tree[3]

    def __repr__(self) -> str:
        return f"Trace({self.trace_id!r}, {self.status}, records={self.record_count})"


class TraceForest:
    """All traces, updated per batch in O(records with a trace id); span trees built lazily per trace."""

    def __init__(self, store: Store, attrs_of: AttrsOf | None = None) -> None:
        self.store = store
        self._attrs_of = attrs_of
        self._traces: dict[str, Trace] = {}
        self._sorted: list[Trace] | None = None

    def __len__(self) -> int:
        return len(self._traces)

    def add(self, batch: Appended) -> set[str]:  # noqa: PLR0912 - one flat loop is the hot path
        """Fold one appended batch into the summaries; return the ids of the traces it touched."""
        touched: set[str] = set()
        traces = self._traces
        first = batch.first_seq
        ts, levels, events, ops, parents = batch.ts, batch.levels, batch.events, batch.ops, batch.parent_ids
        lines, line_index, parsed = batch.lines, batch.line_index, batch.parsed
        for k, tid in enumerate(batch.trace_ids):
            if tid is None:
                continue
            seq = first + k
            t = ts[k]
            trace = traces.get(tid)
            if trace is None:
                trace = traces[tid] = Trace(tid, self, seq, t)
            touched.add(tid)
            trace.record_count += 1
            trace.last_seq = seq
            if t < trace.start:
                trace.start = t
            elif t > trace.end:
                trace.end = t
            if levels[k] >= _ERROR:
                trace.error_count += 1
                if levels[k] >= _CRITICAL:
                    trace.critical_count += 1
            event = events[k]
            if event == EVENT_TRACE_START:
                trace.started = True
                trace._open += 1
            elif event == EVENT_TRACE_COMPLETE:
                trace._open -= 1
            elif event == EVENT_TRACE_FAILED:
                trace._open -= 1
                trace.failed = True
            op = ops[k]
            if op is not None and (trace.op is None or (parents[k] is None and event == EVENT_TRACE_START)):
                trace.op = op
            line = lines[line_index[k]]
            if b"_usd" in line or b"_tokens" in line:
                attrs = parsed[k].attrs
                if attrs is None and self._attrs_of is not None:
                    attrs = self._attrs_of(line, _part(line_index, k))  # type: ignore[assignment]
                if attrs:
                    _add_sums(trace, attrs)
        if touched:
            self._sorted = None
        return touched

    def get(self, trace_id: str) -> Trace | None:
        """The trace with this id, if seen."""
        return self._traces.get(trace_id)

    def traces(self) -> list[Trace]:
        """All traces, newest activity first."""
        if self._sorted is None:
            self._sorted = sorted(self._traces.values(), key=lambda t: t.last_seq, reverse=True)
        return self._sorted

    def trace_of(self, seq: int) -> Trace | None:
        """The trace record ``seq`` belongs to."""
        tid = self.store.trace_id(seq)
        return self._traces.get(tid) if tid is not None else None

    def span_of(self, seq: int) -> Span | None:
        """The span record ``seq`` belongs to."""
        trace = self.trace_of(seq)
        return trace.span_of(seq) if trace is not None else None

    def failing_span(self, trace: Trace) -> Span | None:
        """The deepest failed span of ``trace`` (see ``failing_span``)."""
        return failing_span(trace)

    def forget_before(self, seq: int) -> int:
        """Drop traces whose records were all evicted (last record before ``seq``); return how many."""
        dead = [tid for tid, t in self._traces.items() if t.last_seq < seq]
        for tid in dead:
            del self._traces[tid]
        if dead:
            self._sorted = None
        return len(dead)


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


def _part(line_index: Sequence[int], k: int) -> int:
    """Which record of its line record ``k`` is (lines like OTLP exports hold several)."""
    part = 0
    while k - part > 0 and line_index[k - part - 1] == line_index[k]:
        part += 1
    return part


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _add_sums(trace: Trace, attrs: Mapping[str, Any]) -> None:
    for key in ("amount_usdc", "payout_usdc", "cost_usd"):
        value = _number(attrs.get(key))
        if value is not None:
            setattr(trace, key, getattr(trace, key) + value)
    usage = attrs.get("usage")
    for source in (attrs, usage if isinstance(usage, Mapping) else None):
        if source is None:
            continue
        for input_key, output_key in _TOKEN_PAIRS:
            out = _number(source.get(output_key))
            if out is not None:
                trace.tokens += int(out + (_number(source.get(input_key)) or 0.0))
                return
