"""Compile a filter AST into a plain-closure predicate over a Subject (never eval/exec)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Container
from typing import Any, Final

from agent_tui.model.query.checks import ORDER_OPS, RECORD_FIELDS, level_value, parse_time, unit_scale
from agent_tui.model.query.fastpaths import (
    fast_equal,
    fast_error,
    fast_member,
    fast_order,
    fast_text,
    level_test,
    time_test,
)
from agent_tui.model.query.flagfield import FLAG_FIELD, compile_flag
from agent_tui.model.query.nodes import (
    And,
    Bool,
    Compare,
    Duration,
    Exists,
    Field,
    ListValue,
    MatchAll,
    Node,
    Not,
    Null,
    Num,
    Or,
    Scalar,
    Str,
    Text,
    TraceScope,
    Truthy,
)
from agent_tui.model.query.subject import Subject
from agent_tui.model.query.values import MISSING, Getter, Predicate, field_getter, same_value

__all__ = ["FlagsOf", "Predicate", "compile_node", "cost"]

Clock = Callable[[], float]
FlagsOf = Callable[[str | None], Container[str]]
"""Trace id → the names of the flags it carries (``FlagTracker.of``), for the ``flag`` field."""


def _no_flags(trace_id: str | None) -> Container[str]:
    return ()


_ORDER: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _always(subject: Subject) -> bool:
    return True


def compile_node(node: Node, now: Clock, flags: FlagsOf | None = None) -> Predicate:
    """Build the predicate for ``node``; a ``trace:(...)`` node compiles to its inner test.

    ``flags`` answers the ``flag`` field; without it no record has a flag.
    """
    if isinstance(node, MatchAll):
        return _always
    if isinstance(node, TraceScope):
        return compile_node(node.inner, now, flags)
    if isinstance(node, And | Or):
        parts = [compile_node(item, now, flags) for item in sorted(node.items, key=cost)]
        return _all_of(parts) if isinstance(node, And) else _any_of(parts)
    if isinstance(node, Not):
        inner = compile_node(node.operand, now, flags)
        return lambda s: not inner(s)
    if isinstance(node, Text):
        return _text(node.term)
    if isinstance(node, Compare | Exists | Truthy) and node.field.path == FLAG_FIELD:
        return compile_flag(node, flags or _no_flags)
    if isinstance(node, Exists):
        get = field_getter(node.field)
        return lambda s: get(s) is not MISSING
    if isinstance(node, Truthy):
        get = field_getter(node.field)
        return lambda s: get(s) not in _FALSY
    return _compare(node, now)


_FALSY: Final = (MISSING, None, False)


def cost(node: Node) -> int:
    """Rough price of evaluating ``node``: record fields < raw line < parsed attributes."""
    if isinstance(node, Text):
        return 1
    if isinstance(node, Compare | Exists | Truthy):
        return 0 if node.field.path in RECORD_FIELDS else 2
    if isinstance(node, Not):
        return cost(node.operand)
    if isinstance(node, And | Or):
        return max(cost(item) for item in node.items)
    if isinstance(node, TraceScope):
        return cost(node.inner)
    return 0


def _all_of(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        a, b = parts
        return lambda s: a(s) and b(s)
    if len(parts) == 3:
        a, b, c = parts
        return lambda s: a(s) and b(s) and c(s)
    return lambda s: all(p(s) for p in parts)


def _any_of(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        a, b = parts
        return lambda s: a(s) or b(s)
    return lambda s: any(p(s) for p in parts)


def _text(term: str) -> Predicate:
    """Smartcase search of the raw line: case-sensitive only when the term has an uppercase letter."""
    if term != term.lower() or term == term.upper():
        needle = term.encode()
        return lambda s: needle in s.raw
    if term.isascii():
        lowered = term.encode()
        return lambda s: lowered in s.raw.lower()
    return lambda s: term in s.raw.decode("utf-8", "replace").lower()


def _compare(node: Compare, now: Clock) -> Predicate:
    path = node.field.path
    if path == ("level",):
        return _compare_level(node)
    if path == ("ts",):
        return _compare_time(node, now)
    get = field_getter(node.field)
    op = node.op
    if op == "in":
        assert isinstance(node.value, ListValue)
        literals = [_literal(item, node.field) for item in node.value.items]
        return fast_member(node.field, literals) or _member(get, literals)
    assert not isinstance(node.value, ListValue)
    literal = _literal(node.value, node.field)
    if op in ("==", "!="):
        fast = fast_equal(node.field, literal, negate=op == "!=") or fast_error(node.field, literal, op)
        if fast is not None:
            return fast
        eq = _equal(get, literal)
        return eq if op == "==" else (lambda s: not eq(s))
    if op in ORDER_OPS:
        return fast_order(node.field, op, literal) or _order(get, _ORDER[op], literal)
    return fast_text(node.field, op, literal) or _text_op(get, op, literal)


def _literal(value: Scalar, field: Field) -> Any:
    if isinstance(value, Duration):
        return value.seconds * unit_scale(field)
    if isinstance(value, Null):
        return None
    assert isinstance(value, Str | Num | Bool)
    return value.value


def _equal(get: Getter, literal: Any) -> Predicate:
    if literal is None:
        return lambda s: get(s) in (None, MISSING)
    if isinstance(literal, bool):
        return lambda s: get(s) is literal
    if isinstance(literal, int | float):

        def number_equal(s: Subject) -> bool:
            value = get(s)
            return (type(value) is int or type(value) is float) and value == literal

        return number_equal
    return lambda s: get(s) == literal


def _member(get: Getter, literals: list[Any]) -> Predicate:
    strings = frozenset(v for v in literals if isinstance(v, str))
    numbers = frozenset(v for v in literals if isinstance(v, int | float) and not isinstance(v, bool))
    bools = frozenset(v for v in literals if isinstance(v, bool))
    has_null = any(v is None for v in literals)

    def member(s: Subject) -> bool:
        value = get(s)
        kind = type(value)
        if kind is str:
            return value in strings
        if kind is int or kind is float:
            return value in numbers
        if kind is bool:
            return value in bools
        return has_null and (value is None or value is MISSING)

    return member


def _order(get: Getter, compare: Callable[[Any, Any], bool], literal: Any) -> Predicate:
    if isinstance(literal, str):
        return lambda s: type(v := get(s)) is str and compare(v, literal)

    def number_order(s: Subject) -> bool:
        value = get(s)
        return (type(value) is int or type(value) is float) and compare(value, literal)

    return number_order


def _text_op(get: Getter, op: str, literal: Any) -> Predicate:
    if op in ("=~", "!~"):
        search = re.compile(literal).search
        matched: Predicate = lambda s: type(v := get(s)) is str and search(v) is not None  # noqa: E731
        return matched if op == "=~" else (lambda s: not matched(s))
    if op == "startswith":
        return lambda s: type(v := get(s)) is str and v.startswith(literal)

    def contains(s: Subject) -> bool:
        value = get(s)
        if type(value) is str:
            return isinstance(literal, str) and literal in value
        if type(value) is list:
            return any(same_value(item, literal) for item in value)
        return False

    return contains


def _compare_level(node: Compare) -> Predicate:
    op = node.op
    if op in ("=~", "!~", "contains", "startswith"):
        get: Getter = lambda s: s.record.level.label  # noqa: E731
        return _text_op(get, op, _literal(node.value, node.field))  # type: ignore[arg-type]
    if isinstance(node.value, ListValue):
        levels = frozenset(level_value(item) for item in node.value.items)
        return lambda s: s.record.level in levels
    level = level_value(node.value)
    assert level is not None
    return level_test(op, level)


def _time_value(value: Scalar) -> float | None:
    """A fixed epoch time for ``value``, or None for a relative (``-15m``) one."""
    if isinstance(value, Str):
        moment = parse_time(value.value)
        assert moment is not None
        return moment
    if isinstance(value, Num):
        return float(value.value)
    return None


def _compare_time(node: Compare, now: Clock) -> Predicate:
    op = node.op
    if isinstance(node.value, ListValue):
        items = node.value.items
        fixed = frozenset(_time_value(item) for item in items)
        if None not in fixed:
            return lambda s: s.record.ts in fixed
        parts = [_compare_time(Compare(node.field, "==", item), now) for item in items]
        return _any_of(parts) if len(parts) > 1 else parts[0]
    moment = _time_value(node.value)
    if moment is not None:
        return time_test(op, moment)
    compare = _ORDER.get(op) or (operator.eq if op == "==" else operator.ne)
    assert isinstance(node.value, Duration)
    offset = node.value.seconds
    return lambda s: compare(s.record.ts, now() + offset)
