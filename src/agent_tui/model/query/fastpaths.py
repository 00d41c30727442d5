"""One-call closures for the commonest comparisons, so hot filters skip the generic getter layer."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from agent_tui.model.query.nodes import Field
from agent_tui.model.query.values import Predicate

__all__ = ["fast_equal", "fast_error", "fast_member", "fast_order", "fast_text", "level_test", "time_test"]

_RECORD_STRINGS: Final[dict[tuple[str, ...], str]] = {
    ("event",): "event",
    ("msg",): "event",
    ("message",): "event",
    ("trace_id",): "trace_id",
    ("span_id",): "span_id",
    ("parent_span_id",): "parent_span_id",
    ("op",): "op",
}

Test = Callable[[Any], Predicate]

# Plain attribute reads are measurably faster than attrgetter calls in these per-record closures.
_EQUALS: Final[dict[str, Test]] = {
    "event": lambda lit: lambda s: s.record.event == lit,
    "trace_id": lambda lit: lambda s: s.record.trace_id == lit,
    "span_id": lambda lit: lambda s: s.record.span_id == lit,
    "parent_span_id": lambda lit: lambda s: s.record.parent_span_id == lit,
    "op": lambda lit: lambda s: s.record.op == lit,
}
_DIFFERS: Final[dict[str, Test]] = {
    "event": lambda lit: lambda s: s.record.event != lit,
    "trace_id": lambda lit: lambda s: s.record.trace_id != lit,
    "span_id": lambda lit: lambda s: s.record.span_id != lit,
    "parent_span_id": lambda lit: lambda s: s.record.parent_span_id != lit,
    "op": lambda lit: lambda s: s.record.op != lit,
}
_MEMBER: Final[dict[str, Test]] = {
    "event": lambda lits: lambda s: s.record.event in lits,
    "trace_id": lambda lits: lambda s: s.record.trace_id in lits,
    "span_id": lambda lits: lambda s: s.record.span_id in lits,
    "parent_span_id": lambda lits: lambda s: s.record.parent_span_id in lits,
    "op": lambda lits: lambda s: s.record.op in lits,
}


def _attrs_key(field: Field) -> str | None:
    """The key when ``field`` is a plain top-level attribute (not a record field, not dotted)."""
    path = field.path
    if len(path) != 1 or path in _RECORD_STRINGS or path[0] in ("level", "ts", "error"):
        return None
    return path[0]


def fast_equal(field: Field, literal: Any, *, negate: bool) -> Predicate | None:
    """``field == "text"`` / ``!=`` on a record string field or a top-level attribute, else None."""
    if not isinstance(literal, str):
        return None
    attr = _RECORD_STRINGS.get(field.path)
    if attr is not None:
        return (_DIFFERS if negate else _EQUALS)[attr](literal)
    key = _attrs_key(field)
    if key is None:
        return None
    if negate:
        return lambda s: s.attrs.get(key) != literal
    return lambda s: s.attrs.get(key) == literal


def fast_member(field: Field, literals: list[Any]) -> Predicate | None:
    """``field in ["a", "b"]`` when every item is a string, else None."""
    if not literals or not all(isinstance(v, str) for v in literals):
        return None
    strings = frozenset(literals)
    attr = _RECORD_STRINGS.get(field.path)
    if attr is not None:
        return _MEMBER[attr](strings)
    key = _attrs_key(field)
    if key is None:
        return None
    # Checking the type first keeps unhashable values (lists, objects) out of the set lookup.
    return lambda s: type(v := s.attrs.get(key)) is str and v in strings


def fast_order(field: Field, op: str, literal: Any) -> Predicate | None:
    """``key > 50`` and friends on a top-level attribute with a number, else None."""
    key = _attrs_key(field)
    if key is None or type(literal) not in (int, float):
        return None
    if op == ">":
        return lambda s: (type(v := s.attrs.get(key)) is int or type(v) is float) and v > literal
    if op == ">=":
        return lambda s: (type(v := s.attrs.get(key)) is int or type(v) is float) and v >= literal
    if op == "<":
        return lambda s: (type(v := s.attrs.get(key)) is int or type(v) is float) and v < literal
    return lambda s: (type(v := s.attrs.get(key)) is int or type(v) is float) and v <= literal


_LEVEL: Final[dict[str, Test]] = {
    "==": lambda v: lambda s: s.record.level == v,
    "!=": lambda v: lambda s: s.record.level != v,
    "<": lambda v: lambda s: s.record.level < v,
    "<=": lambda v: lambda s: s.record.level <= v,
    ">": lambda v: lambda s: s.record.level > v,
    ">=": lambda v: lambda s: s.record.level >= v,
}
_TIME: Final[dict[str, Test]] = {
    "==": lambda v: lambda s: s.record.ts == v,
    "!=": lambda v: lambda s: s.record.ts != v,
    "<": lambda v: lambda s: s.record.ts < v,
    "<=": lambda v: lambda s: s.record.ts <= v,
    ">": lambda v: lambda s: s.record.ts > v,
    ">=": lambda v: lambda s: s.record.ts >= v,
}


def level_test(op: str, level: int) -> Predicate:
    """``level OP value`` on the normalised severity."""
    return _LEVEL[op](level)


def time_test(op: str, moment: float) -> Predicate:
    """``ts OP moment`` against a fixed epoch time."""
    return _TIME[op](moment)


def fast_error(field: Field, literal: Any, op: str) -> Predicate | None:
    """``error.type == "X"`` / ``error.message == "X"`` (and ``!=``) on the record's error, else None."""
    if not isinstance(literal, str) or field.path not in (("error", "type"), ("error", "message")):
        return None
    if field.path[1] == "type":
        equal: Predicate = lambda s: (e := s.record.error) is not None and e.type == literal  # noqa: E731
    else:
        equal = lambda s: (e := s.record.error) is not None and e.message == literal  # noqa: E731
    return equal if op == "==" else (lambda s: not equal(s))


def fast_text(field: Field, op: str, literal: Any) -> Predicate | None:
    """Regex, contains and startswith on the message, which is always a string, else None."""
    if _RECORD_STRINGS.get(field.path) != "event" or not isinstance(literal, str):
        return None
    if op == "=~":
        search = re.compile(literal).search
        return lambda s: search(s.record.event) is not None
    if op == "!~":
        search = re.compile(literal).search
        return lambda s: search(s.record.event) is None
    if op == "contains":
        return lambda s: literal in s.record.event
    return lambda s: s.record.event.startswith(literal)
