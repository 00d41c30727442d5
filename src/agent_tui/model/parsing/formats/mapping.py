"""The alias tables of DESIGN §5 and the per-key-set plans that let the hot path skip alias searches."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Final

import orjson

from agent_tui.model.parsing.formats.shapes import error_from_object, error_from_text, level_of, normalise_id
from agent_tui.model.parsing.timeparse import parse_time, parse_time_str
from agent_tui.model.record import ErrorInfo
from agent_tui.schema import Level

__all__ = [
    "ALIASES",
    "ENVELOPE_KEYS",
    "ERROR_KEYS",
    "ID_CACHE",
    "LEVEL_ALIASES",
    "LEVEL_CACHE",
    "LEVEL_KEYS",
    "LEVEL_SCHEME",
    "MAX_PLANS",
    "MESSAGE_KEYS",
    "NESTED_ID_KEYS",
    "OP_KEYS",
    "PAD",
    "PARENT_KEYS",
    "SPAN_KEYS",
    "SPAN_LINE_KEYS",
    "TIME_KEYS",
    "TRACE_KEYS",
    "Plan",
    "error_any",
    "error_of",
    "fractions",
    "is_span_line",
    "level_tables",
    "lookup",
    "make_plan",
    "norm_id",
    "plan_level",
    "remember_second",
    "seconds",
    "tail_fraction",
    "text",
    "time_of",
]

TIME_KEYS: Final = ("ts", "timestamp", "time", "@timestamp", "asctime", "t", "__REALTIME_TIMESTAMP")
LEVEL_KEYS: Final = (
    ("level", "auto"),
    ("levelname", "stdlib"),
    ("severity", "auto"),
    ("severity_text", "otel"),
    ("severityText", "otel"),
    ("lvl", "auto"),
    ("loglevel", "auto"),
    ("PRIORITY", "syslog"),
    ("severity_number", "otel"),
    ("severityNumber", "otel"),
    ("levelno", "stdlib"),
)
LEVEL_SCHEME: Final = dict(LEVEL_KEYS)
LEVEL_ALIASES: Final = tuple(k for k, _ in LEVEL_KEYS)
MESSAGE_KEYS: Final = ("event", "msg", "message", "body", "MESSAGE", "log", "text")
TRACE_KEYS: Final = ("trace_id", "traceId", "trace.id", "traceID", "req_id", "request_id", "correlation_id")
SPAN_KEYS: Final = ("span_id", "spanId", "span.id")
PARENT_KEYS: Final = ("parent_span_id", "parentSpanId", "parent_id")
OP_KEYS: Final = ("op", "operation", "span_name", "span")
ERROR_KEYS: Final = frozenset(
    {"error", "err", "exception", "exc_info", "stack", "error.type", "error_type", "exception.type"}
)
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "ts": TIME_KEYS,
    "level": tuple(k for k, _ in LEVEL_KEYS),
    "event": MESSAGE_KEYS,
    "trace_id": TRACE_KEYS,
    "span_id": SPAN_KEYS,
    "parent_span_id": PARENT_KEYS,
    "op": OP_KEYS,
}
ENVELOPE_KEYS: Final = frozenset({"resourceLogs", "record", "stream", "__REALTIME_TIMESTAMP", "MESSAGE"})


def text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


def lookup(obj: Mapping[str, Any], key: str) -> Any:
    """``obj[key]``, or a nested path (``record.level.name``) when the flat key is absent."""
    value = obj.get(key)
    if value is None and "." in key:
        value = obj
        for part in key.split("."):
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
    return value


def is_span_line(obj: Mapping[str, Any]) -> bool:
    """An exported span (OTel console span exporter style): ``name`` is then the span's operation."""
    return ("start_time" in obj and "end_time" in obj) or "startTimeUnixNano" in obj


LEVEL_CACHE: dict[tuple[str, object], Level] = {}
ID_CACHE: dict[str, str] = {}
MAX_PLANS: Final = 4096
SPAN_LINE_KEYS: Final = frozenset({"start_time", "end_time", "startTimeUnixNano"})
NESTED_ID_KEYS: Final = frozenset({"trace", "span", "parent"})
level_tables: dict[str, dict[object, Level]] = {}
"""Per level key: value → Level, shared by every plan that reads that key."""

Plan = tuple[
    Callable[[Mapping[str, Any]], tuple[Any, ...]],
    Callable[[tuple[Any, ...]], tuple[Any, ...]],
    str | None,
    dict[object, Level],
    bool,
    tuple[str | None, ...],
]
PAD: Final = (None,)


def _present(obj: Mapping[str, Any], aliases: Sequence[str]) -> list[str]:
    return [key for key in aliases if key in obj]


def make_plan(obj: Mapping[str, Any]) -> Plan | None:
    """How to read objects with exactly ``obj``'s key set, or None when the generic path must decide.

    A plan is only made when every role has at most one alias present (so reading that key gives the same
    answer as the ordered alias search) and the object is no envelope and carries no nested ECS ids. It is
    two C callables: ``pick`` gets the present role keys' values, ``reorder`` lays them out in role order
    (time, level, message, trace, span, parent, op) with None (the padding) for absent roles.
    """
    if not ENVELOPE_KEYS.isdisjoint(obj):
        return None
    found: list[str | None] = []
    for aliases in (TIME_KEYS, LEVEL_ALIASES, MESSAGE_KEYS, TRACE_KEYS, SPAN_KEYS, PARENT_KEYS, OP_KEYS):
        present = _present(obj, aliases)
        if len(present) > 1:
            return None
        found.append(present[0] if present else None)
    if found[6] is None and "name" in obj and not SPAN_LINE_KEYS.isdisjoint(obj):
        return None
    if (found[3] is None or found[4] is None) and not NESTED_ID_KEYS.isdisjoint(obj):
        return None
    keys = [key for key in found if key is not None]
    if not keys:
        return None
    # itemgetter of one key returns the bare value, so a lone key is read twice to keep a tuple.
    pick = itemgetter(*keys) if len(keys) > 1 else itemgetter(keys[0], keys[0])
    pad = len(keys) if len(keys) > 1 else 2
    reorder = itemgetter(*(keys.index(key) if key is not None else pad for key in found))
    levels = level_tables.setdefault(found[1] or "", {})
    has_error = not ERROR_KEYS.isdisjoint(obj) or "attributes" in obj
    return (pick, reorder, found[1], levels, has_error, tuple(found))


seconds: dict[str, float] = {}
"""``"2026-03-04T03:21:44"`` → epoch seconds, for the planned path; only valid prefixes get in."""


fractions: dict[str, float] = {}
"""``".312Z"``, ``",413"``, ``"Z"`` → the fraction of a second they hold (UTC zone or none)."""


def tail_fraction(tail: str) -> float | None:
    """The fraction of a second in what follows ``…HH:MM:SS``, if it is only a fraction and ``Z``/no zone.

    ``".312Z"`` → 0.312, ``",413"`` (stdlib asctime) → 0.413, ``""`` → 0.0; offsets and anything else
    give None. Millisecond tails repeat, so results are cached (up to a bound).
    """
    core = tail[:-1] if tail[-1:] in ("Z", "z") else tail
    if not core:
        value = 0.0
    elif core[0] in ".," and core[1:].isdigit() and core.isascii():
        value = float("0." + core[1:])
    else:
        return None
    if len(fractions) < 50_000:
        fractions[tail] = value
    return value


def remember_second(text: str) -> None:
    """Cache the whole second of an RFC 3339 / asctime time (UTC or naive) for the planned path."""
    if len(text) >= 19 and text[10] in "Tt " and tail_fraction(text[19:]) is not None:
        second = parse_time_str(text[:19])
        if second is not None:
            if len(seconds) >= 100_000:
                seconds.clear()
            seconds[text[:19]] = second


def plan_level(levels: dict[object, Level], key: str | None, value: object) -> Level:
    """Level for a value not yet in the key's table (unknown levels are INFO); remembers hashable values."""
    level = level_of(value, LEVEL_SCHEME.get(key or "", "auto")) if value is not None else None
    if level is None:
        level = Level.INFO
    # 0 and 1 are not remembered: False and True would find them (equal keys to a dict) though a bool
    # names no level, so a line's level would depend on the lines before it.
    remember = value is None or type(value) is str or (type(value) is int and value not in (0, 1))
    if remember and len(levels) < 4096:
        levels[value] = level
    return level


def norm_id(value: object) -> str | None:
    return None if value is None else normalise_id(value)


def error_any(obj: Mapping[str, Any]) -> ErrorInfo | None:
    error = error_of(obj)
    if error is None:
        attributes = obj.get("attributes")
        if isinstance(attributes, Mapping):
            error = error_of(attributes)
    return error


def time_of(value: object, obj: Mapping[str, Any]) -> float | None:
    if type(value) is str:
        return parse_time_str(value)
    if isinstance(value, Mapping):
        # loguru-style {"repr": …, "timestamp": …} and OTel-style {"seconds": …, "nanos": …}
        return parse_time(value.get("timestamp") or value.get("repr") or value.get("seconds"))
    return parse_time(value)


def error_of(obj: Mapping[str, Any]) -> ErrorInfo | None:
    """The error a line carries, by DESIGN §5 precedence; a bare error string only when nothing richer."""
    fallback: ErrorInfo | None = None
    for key in ("error", "err", "exception", "exc_info", "stack"):
        value = obj.get(key)
        if not value or value is True:
            continue
        info = error_from_object(value)
        if info is None:
            continue
        if isinstance(value, str) and key == "error" and len(info.traceback) <= 1:
            fallback = fallback or info
            continue
        return info
    for prefix in ("error.", "error_", "exception."):
        exc_type = obj.get(prefix + "type")
        if exc_type:
            stack = (
                obj.get(prefix + "stacktrace") or obj.get(prefix + "stack_trace") or obj.get(prefix + "stack")
            )
            parsed = error_from_text(stack) if isinstance(stack, str) else None
            return ErrorInfo(
                str(exc_type),
                text(obj.get(prefix + "message")),
                parsed.traceback if parsed is not None else (),
                parsed.cause if parsed is not None else None,
            )
    return fallback
