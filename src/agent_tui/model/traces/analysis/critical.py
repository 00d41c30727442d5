"""A trace's critical path (Jaeger's definition) and each span's self time, from its span tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent_tui.model.traces.spans import Span

__all__ = ["CriticalPath", "critical_path"]


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """The spans that decide a trace's end-to-end duration, and every span's self time.

    Attributes:
        span_ids: the spans on the path, root first, then depth first in time order.
        self_ms: per span id, its duration minus the time its children cover (clipped to it).
        ends: per span id, the end used: its last record's time, or ``now`` for running spans.
        running: ids of spans still running (their end is ``now``).
    """

    span_ids: tuple[str, ...]
    self_ms: dict[str, float]
    ends: dict[str, float]
    running: frozenset[str]
    members: frozenset[str]
    """``span_ids`` as a set, for ``span_id in path.members``."""


def _end_of(span: Span, now: float | None, ends: dict[str, float], running: set[str]) -> float:
    """A span ends at its last record, or at ``now`` while it is still open."""
    end = span.end
    if span.status == "running" and now is not None and now > end:
        end = now
    if span.status == "running":
        running.add(span.span_id)
    ends[span.span_id] = end
    return end


def critical_path(roots: Sequence[Span], now: float | None = None) -> CriticalPath:
    """Walk back from the end of the trace through the child that finished last before each point.

    Children are clipped to their parent (a child that outlives its parent counts up to the parent's
    end; one that starts after it is off the path). Several roots (orphans whose parent never came)
    are treated as children of one virtual root spanning them all.

    Args:
        roots: the trace's top-level spans (``Trace.roots``).
        now: the time running spans end at (None: their last record).
    """
    ends: dict[str, float] = {}
    running: set[str] = set()
    stack = list(roots)
    while stack:
        span = stack.pop()
        _end_of(span, now, ends, running)
        stack.extend(span.children)
    path: list[str] = []
    if len(roots) == 1:
        path.append(roots[0].span_id)
        _chain(roots[0].children, roots[0].start, ends[roots[0].span_id], ends, path)
    elif roots:
        _chain(roots, min(r.start for r in roots), max(ends[r.span_id] for r in roots), ends, path)
    return CriticalPath(tuple(path), _self_times(roots, ends), ends, frozenset(running), frozenset(path))


def _chain(children: Sequence[Span], lo: float, hi: float, ends: dict[str, float], path: list[str]) -> None:
    """From ``hi`` back to ``lo``: the child that finished last before the cursor, then before its start."""
    inside = [c for c in children if c.start < hi or (c.start == hi and ends[c.span_id] == hi)]
    inside.sort(key=lambda c: (min(ends[c.span_id], hi), c.start), reverse=True)
    picked: list[tuple[Span, float, float]] = []
    cursor = hi
    for child in inside:
        end = min(ends[child.span_id], hi)
        if end > cursor or end < lo:
            continue
        start = max(child.start, lo)
        picked.append((child, start, end))
        cursor = start
    for child, start, end in reversed(picked):
        path.append(child.span_id)
        _chain(child.children, start, end, ends, path)


def _self_times(roots: Sequence[Span], ends: dict[str, float]) -> dict[str, float]:
    """Each span's duration minus the union of its children's intervals (clipped to it), in ms."""
    out: dict[str, float] = {}
    stack = list(roots)
    while stack:
        span = stack.pop()
        stack.extend(span.children)
        end = ends[span.span_id]
        covered = 0.0
        reach = span.start
        pieces = sorted((max(c.start, span.start), min(ends[c.span_id], end)) for c in span.children)
        for lo, hi in pieces:
            begin = max(lo, reach)
            if hi > begin:
                covered += hi - begin
                reach = hi
        out[span.span_id] = max(0.0, (end - span.start) - covered) * 1000.0
    return out
