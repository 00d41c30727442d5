"""Traces built incrementally from indexed records: per-trace summaries now, span trees on demand."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Literal

from agent_tui.model.spans import Span, build_spans
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

if TYPE_CHECKING:
    from agent_tui.model.store import Appended, AttrsOf, Store

__all__ = ["Span", "Trace", "TraceForest", "TraceStatus", "failing_span", "sum_candidates", "summed_fields"]

TraceStatus = Literal["ok", "error", "critical", "running"]
_ERROR = int(Level.ERROR)
_CRITICAL = int(Level.CRITICAL)
_NUMBER = frozenset({int, float})
"""Exact types summed (bool is an int subclass and must not count)."""
_SUM_NEEDLES = re.compile(rb'_usd|_tokens"')
"""Bytes every line carrying a summed key contains: lines without them are never decoded."""
_TOKEN_PAIRS = (
    ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"),
    ("input_tokens", "output_tokens"),
    ("prompt_tokens", "completion_tokens"),
)
_SUM_KEYS = ("amount_usdc", "payout_usdc", "cost_usd", "usage", *(k for pair in _TOKEN_PAIRS for k in pair))


class Trace:
    """One trace's running summary; ``roots`` (the span tree) is built from the store on first use."""

    __slots__ = (
        "_forest",
        "_op",
        "_op_is_root",
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
        "payout_usdc",
        "record_count",
        "start",
        "started",
        "tokens",
        "trace_id",
    )

    def __init__(self, trace_id: str, forest: TraceForest, seq: int, ts: float) -> None:
        self.trace_id = trace_id
        self._op: str | None = None
        self._op_is_root = False
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
    def op(self) -> str | None:
        """The root span's operation (from its ``trace.start`` line, else the first root span's op)."""
        if self._op is None:
            for root in self.roots:
                if root.op is not None:
                    return root.op
        return self._op

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

    def add(self, batch: Appended) -> set[str]:
        """Fold one appended batch into the summaries; return the ids of the traces it touched.

        Per-trace counts, first/last seq and time come from C-level passes over the batch (Counter,
        dict(zip)); only error records, span start/end lines and lines mentioning money or tokens are
        visited one by one.
        """
        tids = batch.trace_ids
        n = len(tids)
        if not n or tids.count(None) == n:
            return set()
        first = batch.first_seq
        seqs = range(first, first + n)
        counts = Counter(tids)
        del counts[None]
        last_seq = dict(zip(tids, seqs, strict=True))
        first_seq = dict(zip(reversed(tids), reversed(seqs), strict=True))
        if batch.ts_sorted:
            lo = dict(zip(reversed(tids), reversed(batch.ts), strict=True))
            hi = dict(zip(tids, batch.ts, strict=True))
        else:
            lo, hi = _min_max(tids, batch.ts)
        traces = self._traces
        for tid, count in counts.items():
            assert tid is not None
            trace = traces.get(tid)
            if trace is None:
                trace = traces[tid] = Trace(tid, self, first_seq[tid], lo[tid])
            trace.record_count += count
            trace.last_seq = last_seq[tid]
            trace.start = min(trace.start, lo[tid])
            trace.end = max(trace.end, hi[tid])
        self._count_errors(batch)
        self._span_events(batch)
        self._sums(batch)
        self._sorted = None
        return set(counts)  # type: ignore[arg-type]

    def _count_errors(self, batch: Appended) -> None:
        first = batch.first_seq
        for seq in batch.new_errors:
            tid = batch.trace_ids[seq - first]
            if tid is not None:
                trace = self._traces[tid]
                trace.error_count += 1
                if batch.levels[seq - first] >= _CRITICAL:
                    trace.critical_count += 1

    def _span_events(self, batch: Appended) -> None:
        events, tids = batch.events, batch.trace_ids
        for name in (EVENT_TRACE_START, EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED):
            k = -1
            while True:
                try:
                    k = events.index(name, k + 1)
                except ValueError:
                    break
                tid = tids[k]
                if tid is None:
                    continue
                trace = self._traces[tid]
                if name == EVENT_TRACE_START:
                    trace.started = True
                    trace._open += 1
                    op = batch.ops[k]
                    # The first start names the trace, unless a real root span (id, no parent) turns up.
                    is_root = batch.parent_ids[k] is None and batch.span_ids[k] is not None
                    if op is not None and (trace._op is None or (is_root and not trace._op_is_root)):
                        trace._op = op
                        trace._op_is_root = is_root
                else:
                    trace._open -= 1
                    trace.failed = trace.failed or name == EVENT_TRACE_FAILED

    def _sums(self, batch: Appended) -> None:
        traces, tids = self._traces, batch.trace_ids
        if batch.sum_attrs is not None:
            for k, attrs in batch.sum_attrs.items():
                tid = tids[k]
                if tid is not None:
                    _add_sums(traces[tid], attrs)
            return
        for k, attrs in sum_candidates(batch, self._attrs_of):
            tid = tids[k]
            if tid is not None:
                _add_sums(traces[tid], attrs)

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


def _lines_containing(lines: Sequence[bytes], needles: re.Pattern[bytes]) -> list[int]:
    """Indices of the lines matching ``needles``, found by one C-level scan of the joined batch."""
    blob = b"\n".join(lines)
    starts = list(accumulate(map((1).__add__, map(len, lines)), initial=0))
    hits: list[int] = []
    search = needles.search
    found = search(blob)
    while found is not None:
        i = bisect_right(starts, found.start()) - 1
        hits.append(i)
        found = search(blob, starts[i + 1])
    return hits


def _part(line_index: Sequence[int], k: int) -> int:
    """Which record of its line record ``k`` is (lines like OTLP exports hold several)."""
    part = 0
    while k - part > 0 and line_index[k - part - 1] == line_index[k]:
        part += 1
    return part


def sum_candidates(batch: Appended, attrs_of: AttrsOf | None) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(record index, attributes)`` of the traced records whose line may carry a summed field."""
    lines = batch.lines
    hits = _lines_containing(lines, _SUM_NEEDLES)
    if not hits:
        return
    if batch.one_per_line:
        records: Sequence[int] = hits
    else:
        wanted = set(hits)
        records = [k for k, i in enumerate(batch.line_index) if i in wanted]
    for k in records:
        if batch.trace_ids[k] is None:
            continue
        attrs = batch.parsed[k].attrs if batch.parsed else None
        if attrs is None and attrs_of is not None:
            attrs = attrs_of(lines[batch.line_index[k]], _part(batch.line_index, k))  # type: ignore[assignment]
        if attrs:
            yield k, attrs


def summed_fields(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Just the fields ``_add_sums`` reads (what a worker process ships instead of whole attributes)."""
    return {key: attrs[key] for key in _SUM_KEYS if key in attrs}


def _add_sums(trace: Trace, attrs: Mapping[str, Any]) -> None:
    get = attrs.get
    value: Any = get("amount_usdc")
    if type(value) in _NUMBER:
        trace.amount_usdc += value
    value = get("payout_usdc")
    if type(value) in _NUMBER:
        trace.payout_usdc += value
    value = get("cost_usd")
    if type(value) in _NUMBER:
        trace.cost_usd += value
    usage = get("usage")
    for source in (attrs, usage if type(usage) is dict else None):
        if source is None:
            continue
        for input_key, output_key in _TOKEN_PAIRS:
            out: Any = source.get(output_key)
            if type(out) in _NUMBER:
                used: Any = source.get(input_key)
                trace.tokens += int(out) + (int(used) if type(used) in _NUMBER else 0)
                return
