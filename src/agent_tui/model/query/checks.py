"""Field kinds and the compile-time checks and conversions of comparison values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from agent_tui.model.query.flagfield import FLAG_FIELD, check_flag
from agent_tui.model.query.nodes import Bool, Duration, Field, ListValue, Null, Num, Scalar, Str, Value
from agent_tui.schema import LEVEL_NAMES, Level, level_from_name

__all__ = [
    "ORDER_OPS",
    "RECORD_FIELDS",
    "REGEX_OPS",
    "TEXT_OPS",
    "check_comparison",
    "level_value",
    "parse_time",
    "unit_scale",
]

RECORD_FIELDS: Final = frozenset(
    {
        ("level",),
        ("ts",),
        ("event",),
        ("msg",),
        ("message",),
        ("trace_id",),
        ("span_id",),
        ("parent_span_id",),
        ("op",),
        ("error",),
        ("error", "type"),
        ("error", "message"),
        FLAG_FIELD,
    }
)
"""Paths answered from the normalised Record (never from the attributes); ``flag`` from its trace."""

ORDER_OPS: Final = frozenset({"<", "<=", ">", ">="})
REGEX_OPS: Final = frozenset({"=~", "!~"})
TEXT_OPS: Final = REGEX_OPS | {"contains", "startswith"}


def unit_scale(field: Field) -> float:
    """How many of the field's units make a second: 1000 for ``*_ms``, 1e6 for ``*_us``, 1e9 for ``*_ns``."""
    last = field.path[-1]
    if last.endswith("_ms"):
        return 1e3
    if last.endswith("_us"):
        return 1e6
    if last.endswith("_ns"):
        return 1e9
    return 1.0


def parse_time(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 / ISO 8601 time (UTC when it has no offset), or None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def level_value(value: Scalar) -> Level | int | None:
    """The severity a level comparison means: a Level for names, the number itself for numbers."""
    if isinstance(value, Str):
        return level_from_name(value.value)
    if isinstance(value, Num):
        return value.value if isinstance(value.value, int) else None
    return None


def check_comparison(field: Field, op: str, value: Value) -> str | None:
    """Why ``field op value`` is not a valid comparison, or None when it is."""
    if isinstance(value, ListValue):
        if op != "in":
            return "a list only goes after 'in'"
        items: tuple[Scalar, ...] = value.items
    elif op == "in":
        return "'in' needs a list like [a, b]"
    else:
        items = (value,)
    for item in items:
        message = _check_item(field, op, item)
        if message is not None:
            return message
    return None


def _check_item(field: Field, op: str, item: Scalar) -> str | None:
    if op in REGEX_OPS:
        if not isinstance(item, Str):
            return f"{op} needs a regular expression in quotes"
        try:
            re.compile(item.value)
        except re.error as exc:
            return f"bad regex: {exc.msg}"
        return None
    if op == "startswith" and not isinstance(item, Str):
        return "startswith needs a string"
    if op in ORDER_OPS and isinstance(item, Bool | Null):
        return f"can't order by {item}"
    if field.path == FLAG_FIELD:
        return check_flag(op, item)
    if field.path == ("level",):
        return _check_level(op, item)
    if field.path == ("ts",):
        return _check_time(op, item)
    return None


def _check_level(op: str, item: Scalar) -> str | None:
    if op in TEXT_OPS:
        return None
    if level_value(item) is None:
        names = " ".join(LEVEL_NAMES)
        shown = item.value if isinstance(item, Str) else str(item)
        return f"unknown level {shown!r}: use one of {names} or a number"
    return None


def _check_time(op: str, item: Scalar) -> str | None:
    if op in TEXT_OPS:
        return "ts is a time: compare it with == != < <= > >= and an RFC 3339 time or -15m"
    if isinstance(item, Str) and parse_time(item.value) is None:
        return f'not an RFC 3339 time: {item.value!r} (like "2026-03-04T03:00:00Z")'
    if isinstance(item, Duration) and item.amount >= 0:
        return f"a time relative to now needs a minus: -{item}"
    if isinstance(item, Bool | Null):
        return f"can't compare ts with {item}"
    return None
