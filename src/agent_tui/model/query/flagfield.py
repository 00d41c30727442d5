"""The ``flag`` field: a test of the flags the record's trace carries (``flag == "retry_storm"``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from typing import Final

from agent_tui.model.query.nodes import Compare, Exists, ListValue, Scalar, Str, Truthy
from agent_tui.model.query.subject import Subject

__all__ = ["FLAG_FIELD", "FLAG_NAMES", "check_flag", "compile_flag"]

FLAG_FIELD: Final = ("flag",)
FLAG_NAMES: Final = ("retry_storm", "agent_loop", "slow", "costly", "stuck")
"""The flags ``agent_tui.model.traces.analysis`` raises (it imports this tuple)."""
_OPS: Final = frozenset({"==", "!=", "in", "=~", "!~", "contains", "startswith"})

Predicate = Callable[[Subject], bool]
FlagsOf = Callable[[str | None], Container[str]]


def check_flag(op: str, item: Scalar) -> str | None:
    """Why ``flag op item`` is not a valid comparison, or None."""
    if op not in _OPS:
        return "flag is a name: compare it with == != in =~ !~ contains startswith"
    if not isinstance(item, Str):
        return f"flag names are strings: {' '.join(FLAG_NAMES)}"
    if op in ("==", "!=", "in") and item.value not in FLAG_NAMES:
        return f"unknown flag {item.value!r}: use one of {' '.join(FLAG_NAMES)}"
    return None


def compile_flag(node: Compare | Exists | Truthy, flags: FlagsOf) -> Predicate:
    """The predicate of a ``flag`` test; it reads only the record's trace id (so it can run on columns)."""
    if not isinstance(node, Compare):
        return lambda s: any(name in flags(s.record.trace_id) for name in FLAG_NAMES)
    op, value = node.op, node.value
    if isinstance(value, ListValue):
        wanted = [item.value for item in value.items if isinstance(item, Str)]
        return lambda s: any(name in flags(s.record.trace_id) for name in wanted)
    assert isinstance(value, Str)
    literal = value.value
    if op in ("==", "!="):
        want = op == "=="
        return lambda s: (literal in flags(s.record.trace_id)) is want
    test = _name_test(op, literal)
    hit = op != "!~"
    return lambda s: any(test(name) for name in _names(flags(s.record.trace_id))) is hit


def _name_test(op: str, literal: str) -> Callable[[str], bool]:
    if op in ("=~", "!~"):
        search = re.compile(literal).search
        return lambda name: search(name) is not None
    if op == "contains":
        return lambda name: literal in name
    return lambda name: name.startswith(literal)


def _names(found: Container[str]) -> list[str]:
    return [name for name in FLAG_NAMES if name in found]
