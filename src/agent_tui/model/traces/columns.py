"""Per-trace summary columns, folded from each appended batch with C-level passes."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import compress, repeat
from operator import eq, is_, itemgetter, not_
from typing import TYPE_CHECKING, TypeVar

from agent_tui.model.parsing.columns import Interner, SpanValues
from agent_tui.model.traces.sums import sum_candidates, sum_values
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

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

    def _fold(self, batch: Appended) -> set[str]:
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
        for found, delta, flag in ((starts, 1, STARTED), (completes, -1, 0), (fails, -1, FAILED)):
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
