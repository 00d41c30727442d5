"""The one JSON shape of traces, spans, errors and records."""

from __future__ import annotations

import orjson

from agent_tui.model.record import ErrorInfo
from agent_tui.model.session import LogModel
from agent_tui.model.traces.tracejson import dumps, error_json, record_json, span_json, trace_tree_json
from agent_tui.sources.base import LineBatch

_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
_LINES = [
    orjson.dumps(line)
    for line in (
        {"ts": "2026-03-04T03:21:44.000Z", "level": "info", "event": "trace.start", "trace_id": _TRACE,
         "span_id": "00f067aa0ba902b7", "op": "bet.place"},
        {"ts": "2026-03-04T03:21:44.100Z", "level": "info", "event": "note", "trace_id": _TRACE},
        {"ts": "2026-03-04T03:21:44.250Z", "level": "error", "event": "trace.failed", "trace_id": _TRACE,
         "span_id": "00f067aa0ba902b7", "op": "bet.place", "duration_ms": 250,
         "err": {"type": "KeyError", "message": "'payout'", "stack": "Traceback\n  boom"}},
    )
]  # fmt: skip


def _model() -> LogModel:
    model = LogModel()
    model.ingest(LineBatch("t", _LINES))
    return model


def test_error_json_keeps_every_link_of_the_chain() -> None:
    """A cause of a cause is written, each link with its own traceback list."""
    root = ErrorInfo("OSError", "disk", ("frame a",))
    error = ErrorInfo("ValueError", "bad", ("frame b",), ErrorInfo("KeyError", "k", (), root))
    data = error_json(error)
    assert data["cause"]["cause"] == {"type": "OSError", "message": "disk", "traceback": ["frame a"]}
    assert data["cause"]["traceback"] == []


def test_trace_tree_places_every_record_and_names_errors_under_error() -> None:
    """The span holds its two lines, the id-less note its own span, and pino's err is also under error."""
    model = _model()
    trace = model.traces.get(_TRACE)
    assert trace is not None
    data = orjson.loads(dumps(trace_tree_json(trace, model.store)))
    spans = {span["span_id"]: span for span in data["spans"]}
    span = spans["00f067aa0ba902b7"]
    assert [r["event"] for r in span["records"]] == ["trace.start", "trace.failed"]
    assert [r["event"] for r in spans["~"]["records"]] == ["note"]
    assert data["records_outside_spans"] == []
    assert span["error"]["type"] == "KeyError"
    assert span["record_count"] == 2 and span["duration_ms"] == 250.0
    assert data["record_count"] == 3 and data["error_count"] == 1
    failed = record_json(model.store, 2)
    assert failed["error"]["type"] == "KeyError" and failed["err"]["type"] == "KeyError"


def test_span_json_names_its_trace_only_when_asked() -> None:
    """The detail pane passes the trace id; the span tree (already inside its trace) does not."""
    model = _model()
    trace = model.traces.get(_TRACE)
    assert trace is not None
    root = trace.roots[0]
    assert "trace_id" not in span_json(root)
    assert span_json(root, _TRACE)["trace_id"] == _TRACE


def test_dumps_writes_integers_wider_than_64_bits_exactly() -> None:
    """A wei amount beyond 2**64 comes out digit for digit (orjson alone refuses it)."""
    wei = 123456789012345678901234567890
    assert dumps({"wei": wei, "nested": [-(2**70), 1.5, True]}) == (
        b'{"wei":123456789012345678901234567890,"nested":[-1180591620717411303424,1.5,true]}'
    )
