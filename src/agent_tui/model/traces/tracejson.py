"""The one JSON shape of a trace, span, error and record (``trace --json``, ``stats``, the detail pane)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import orjson

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agent_tui.model.record import ErrorInfo
    from agent_tui.model.store.index import Store
    from agent_tui.model.traces.analysis import CriticalPath, Flag
    from agent_tui.model.traces.forest import Trace
    from agent_tui.model.traces.spans import Span

__all__ = [
    "dumps",
    "error_json",
    "flag_json",
    "outside_spans",
    "record_json",
    "span_json",
    "span_tree_json",
    "trace_json",
    "trace_tree_json",
]

_INT_MIN: Final = -(2**63)
_INT_END: Final = 2**64


def error_json(error: ErrorInfo) -> dict[str, Any]:
    """An error in the wire shape (DESIGN §3): ``type``, ``message``, ``traceback``, a chained ``cause``."""
    data: dict[str, Any] = {"type": error.type, "message": error.message, "traceback": list(error.traceback)}
    if error.cause is not None:
        data["cause"] = error_json(error.cause)
    return data


def trace_json(trace: Trace) -> dict[str, Any]:
    """A trace's summary: id, status, root op, times, counts and its money and token sums."""
    return {
        "trace_id": trace.trace_id,
        "status": trace.status,
        "op": trace.op,
        "start": trace.start,
        "end": trace.end,
        "duration_ms": round(trace.duration_ms, 3),
        "error_count": trace.error_count,
        "record_count": trace.record_count,
        "amount_usdc": trace.amount_usdc,
        "payout_usdc": trace.payout_usdc,
        "tokens": trace.tokens,
        "cost_usd": trace.cost_usd,
    }


def span_json(span: Span, trace_id: str | None = None) -> dict[str, Any]:
    """A span's summary, its error (with causes) included; ``trace_id`` when the reader lacks the trace."""
    data: dict[str, Any] = {
        "op": span.op,
        "status": span.status,
        "duration_ms": round(span.duration_ms, 3),
        "record_count": len(span.events),
    }
    if trace_id is not None:
        data["trace_id"] = trace_id
    data.update(
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        start=span.start,
        end=span.end,
        error=None if span.error is None else error_json(span.error),
    )
    return data


def record_json(store: Store, seq: int) -> dict[str, Any]:
    """A record's attributes (``{"raw": text}`` for a line that was not JSON), with its parsed error.

    The parsed error is added under ``error`` when the line spelled it another way (pino's ``err``,
    structlog's ``exception``), so every reader finds it in one place.
    """
    record = store.record(seq)
    if record.raw:
        return {"raw": store.raw(seq).decode("utf-8", "replace")}
    data = dict(store.attrs(seq))
    if record.error is not None and "error" not in data:
        data["error"] = error_json(record.error)
    return data


def span_tree_json(span: Span, store: Store, path: CriticalPath | None = None) -> dict[str, Any]:
    """A span with its records and, recursively, its children (with ``path``: self time, critical mark)."""
    data = span_json(span)
    if path is not None:
        data["self_ms"] = round(path.self_ms.get(span.span_id, 0.0), 3)
        data["critical"] = span.span_id in path.members
        data["running"] = span.span_id in path.running
    data["records"] = [record_json(store, seq) for seq in span.events]
    data["children"] = [span_tree_json(child, store, path) for child in span.children]
    return data


def flag_json(flag: Flag, store: Store | None = None) -> dict[str, Any]:
    """A flag: its name, why, and its evidence (the records when ``store`` is given, else their seqs)."""
    data: dict[str, Any] = {"name": flag.name, "reason": flag.reason}
    if store is None:
        data["evidence"] = list(flag.evidence)
    else:
        held = [seq for seq in flag.evidence if seq >= store.first_seq]
        data["evidence"] = [record_json(store, seq) for seq in held]
    return data


def trace_tree_json(
    trace: Trace, store: Store, path: CriticalPath | None = None, flags: Sequence[Flag] = ()
) -> dict[str, Any]:
    """The whole trace: summary, flags, critical path, span tree with every record, records no span holds."""
    data = trace_json(trace)
    data["flags"] = [flag_json(flag, store) for flag in flags]
    if path is not None:
        data["critical_path"] = list(path.span_ids)
    data["spans"] = [span_tree_json(root, store, path) for root in trace.roots]
    data["records_outside_spans"] = [record_json(store, seq) for seq in outside_spans(trace, store)]
    return data


def outside_spans(trace: Trace, store: Store) -> list[int]:
    """Seqs of the trace's records that no span holds (seed-style logs without span ids)."""
    covered: set[int] = set()
    todo = list(trace.roots)
    while todo:
        span = todo.pop()
        covered.update(span.events)
        todo.extend(span.children)
    seqs = store.seqs_of_trace(trace.trace_id, trace.first_seq, trace.last_seq)
    return [seq for seq in seqs if seq not in covered]


def dumps(data: Any, *, indent: bool = False) -> bytes:
    """``data`` as JSON bytes; integers wider than 64 bits (wei amounts, big ids) are written exactly."""
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        return orjson.dumps(data, option=option)
    except TypeError:
        return orjson.dumps(_exact(data), option=option)


def _exact(value: Any) -> Any:
    """A copy of ``value`` with integers orjson refuses turned into verbatim number fragments."""
    if isinstance(value, bool) or not isinstance(value, int | Mapping | list | tuple):
        return value
    if isinstance(value, int):
        return value if _INT_MIN <= value < _INT_END else orjson.Fragment(str(value))
    if isinstance(value, Mapping):
        return {key: _exact(item) for key, item in value.items()}
    return [_exact(item) for item in value]
