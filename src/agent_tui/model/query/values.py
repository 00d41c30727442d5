"""Reading a field's value from a Subject: record fields first, then the attribute mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from agent_tui.model.query.nodes import Field
from agent_tui.model.query.subject import Subject

__all__ = ["MISSING", "Getter", "Predicate", "field_getter", "lookup", "same_value"]


class _Missing:
    """The value of a field a record does not have (compares like JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

Getter = Callable[[Subject], Any]
Predicate = Callable[[Subject], bool]


def _optional(value: Any) -> Any:
    return MISSING if value is None else value


_RECORD_GETTERS: Final[dict[tuple[str, ...], Getter]] = {
    ("level",): lambda s: s.record.level,
    ("ts",): lambda s: s.record.ts,
    ("event",): lambda s: s.record.event,
    ("msg",): lambda s: s.record.event,
    ("message",): lambda s: s.record.event,
    ("trace_id",): lambda s: _optional(s.record.trace_id),
    ("span_id",): lambda s: _optional(s.record.span_id),
    ("parent_span_id",): lambda s: _optional(s.record.parent_span_id),
    ("op",): lambda s: _optional(s.record.op),
    ("error",): lambda s: _optional(s.record.error),
    ("error", "type"): lambda s: MISSING if (e := s.record.error) is None else e.type,
    ("error", "message"): lambda s: MISSING if (e := s.record.error) is None else e.message,
}


def lookup(attrs: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``attrs``: the literal dotted key first, then nested objects/lists.

    Returns:
        The value, or ``MISSING`` when no such key exists.
    """
    if len(path) == 1:
        return attrs.get(path[0], MISSING)
    value = attrs.get(".".join(path), MISSING)
    if value is not MISSING:
        return value
    current: Any = attrs
    for segment in path:
        if isinstance(current, Mapping):
            current = current.get(segment, MISSING)
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            return MISSING
        if current is MISSING:
            return MISSING
    return current


def field_getter(field: Field) -> Getter:
    """A function reading ``field`` from a Subject, ``MISSING`` when absent."""
    path = field.path
    record_getter = _RECORD_GETTERS.get(path)
    if record_getter is not None:
        return record_getter
    if len(path) == 1:
        key = path[0]
        return lambda s: s.attrs.get(key, MISSING)
    return lambda s: lookup(s.attrs, path)


def same_value(value: Any, literal: Any) -> bool:
    """JSON equality: numbers by value, never equal to booleans; strings, booleans and null exactly."""
    if literal is None:
        return value is None or value is MISSING
    if isinstance(literal, bool):
        return value is literal
    if isinstance(literal, int | float):
        return (type(value) is int or type(value) is float) and value == literal
    return type(value) is str and value == literal
