"""Span trees of one trace, built from its records (span ids, or start/complete pairs without them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from agent_tui.model.record import ErrorInfo, Record
from agent_tui.schema import EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED, EVENT_TRACE_START, Level

__all__ = ["Span", "SpanStatus", "build_spans"]

SpanStatus = Literal["ok", "error", "critical", "running"]
_SEVERITY = {"ok": 0, "running": 0, "error": 1, "critical": 2}


class Span:
    """A span: its records (``events``, seqs in arrival order), its children, its worst outcome."""

    __slots__ = (
        "children",
        "end",
        "ended",
        "error",
        "events",
        "op",
        "parent_span_id",
        "span_id",
        "start",
        "started",
        "status",
    )

    def __init__(self, span_id: str, parent_span_id: str | None, op: str | None, ts: float) -> None:
        self.span_id = span_id
        """The span id; ids of spans inferred from start/complete pairs start with ``~``."""
        self.parent_span_id = parent_span_id
        self.op = op
        self.start = ts
        self.end = ts
        self.status: SpanStatus = "ok"
        self.error: ErrorInfo | None = None
        self.children: list[Span] = []
        self.events: list[int] = []
        self.started = False
        self.ended = False

    @property
    def duration_ms(self) -> float:
        """Time between the span's first and last record, in milliseconds."""
        return (self.end - self.start) * 1000.0

    def __repr__(self) -> str:
        return f"Span({self.span_id!r}, op={self.op!r}, {self.status}, children={len(self.children)})"

    def _add(self, record: Record) -> None:
        self.events.append(record.seq)
        self.start = min(self.start, record.ts)
        self.end = max(self.end, record.ts)
        if self.op is None and record.op is not None:
            self.op = record.op
        event = record.event
        if event == EVENT_TRACE_START:
            self.started = True
        elif event in (EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED):
            self.ended = True
        worst: SpanStatus = "ok"
        if record.level >= Level.CRITICAL:
            worst = "critical"
        elif record.level >= Level.ERROR or event == EVENT_TRACE_FAILED:
            worst = "error"
        if _SEVERITY[worst] > _SEVERITY[self.status]:
            self.status = worst
        if record.error is not None and (self.error is None or worst != "ok"):
            self.error = record.error


class _Builder:
    def __init__(self) -> None:
        self.spans: dict[str, Span] = {}
        self.by_seq: dict[int, Span] = {}
        self.stack: list[Span] = []
        self.loose: Span | None = None
        self.synthetic = 0

    def add(self, record: Record) -> None:
        sid = record.span_id
        if sid is not None:
            span = self.spans.get(sid)
            if span is None:
                span = self.spans[sid] = Span(sid, record.parent_span_id, record.op, record.ts)
            elif span.parent_span_id is None and record.parent_span_id is not None:
                span.parent_span_id = record.parent_span_id
        else:
            span = self._by_pairing(record)
        span._add(record)
        self.by_seq[record.seq] = span
        if sid is None and record.event in (EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED):
            self._close(span)

    def _by_pairing(self, record: Record) -> Span:
        if record.event == EVENT_TRACE_START:
            self.synthetic += 1
            parent = self.stack[-1].span_id if self.stack else None
            span = Span(f"~{self.synthetic}", parent, record.op, record.ts)
            self.spans[span.span_id] = span
            self.stack.append(span)
            return span
        if self.stack:
            if record.op is not None and record.event in (EVENT_TRACE_COMPLETE, EVENT_TRACE_FAILED):
                for span in reversed(self.stack):
                    if span.op == record.op:
                        return span
            return self.stack[-1]
        if self.loose is None:
            self.loose = Span("~", None, None, record.ts)
            self.spans["~"] = self.loose
        return self.loose

    def _close(self, span: Span) -> None:
        if span in self.stack:
            while self.stack and self.stack.pop() is not span:
                pass

    def link(self) -> list[Span]:
        roots: list[Span] = []
        spans = self.spans
        for span in spans.values():
            parent = spans.get(span.parent_span_id) if span.parent_span_id is not None else None
            if parent is None or _is_ancestor(span, parent, spans):
                roots.append(span)
            else:
                parent.children.append(span)
            if span.started and not span.ended and span.status == "ok":
                span.status = "running"
        for span in spans.values():
            span.children.sort(key=lambda s: s.start)
        roots.sort(key=lambda s: s.start)
        return roots


def _is_ancestor(span: Span, candidate: Span, spans: dict[str, Span]) -> bool:
    """True when linking ``span`` under ``candidate`` would close a cycle."""
    seen = 0
    node: Span | None = candidate
    while node is not None and seen <= len(spans):
        if node is span:
            return True
        node = spans.get(node.parent_span_id) if node.parent_span_id is not None else None
        seen += 1
    return node is not None


def build_spans(records: Sequence[Record]) -> tuple[list[Span], dict[int, Span]]:
    """Build the span tree of one trace's records (arrival order); return roots and seq → span."""
    builder = _Builder()
    for record in records:
        builder.add(record)
    return builder.link(), builder.by_seq
