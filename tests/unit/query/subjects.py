"""Build filter Subjects from plain dicts the way a flat-JSON parser would."""

from __future__ import annotations

from typing import Any

import orjson

from agent_tui.model.query import StaticSubject
from agent_tui.model.query.checks import parse_time
from agent_tui.model.record import ErrorInfo, Record
from agent_tui.schema import Level, parse_level


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def subject(obj: dict[str, Any], raw: bytes | None = None) -> StaticSubject:
    """A Subject for one flat JSON log object, its Record mapped by the common aliases."""
    error = obj.get("error") or obj.get("err")
    info = None
    if isinstance(error, dict):
        info = ErrorInfo(str(error.get("type", "Error")), str(error.get("message", "")))
    ts_value = obj.get("ts", 0.0)
    ts = parse_time(ts_value) if isinstance(ts_value, str) else float(ts_value)
    record = Record(
        seq=0,
        ts=ts or 0.0,
        level=parse_level(obj.get("level", "info")) or Level.INFO,
        event=str(obj.get("event", obj.get("msg", ""))),
        trace_id=_text_or_none(obj.get("trace_id")),
        span_id=_text_or_none(obj.get("span_id")),
        parent_span_id=_text_or_none(obj.get("parent_span_id")),
        op=_text_or_none(obj.get("op")),
        error=info,
    )
    return StaticSubject(record, obj, orjson.dumps(obj) if raw is None else raw)


def raw_subject(line: bytes) -> StaticSubject:
    """A Subject for a line that is not JSON: shown as text, no attributes."""
    text = line.decode("utf-8", "replace")
    return StaticSubject(Record(seq=0, ts=0.0, level=Level.INFO, event=text, raw=True), {}, line)
