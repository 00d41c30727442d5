"""Static facts about a filter: which parts of a record it reads (the byte prefilter is in ``prefilter``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from agent_tui.model.query.checks import RECORD_FIELDS
from agent_tui.model.query.nodes import And, Compare, Exists, Node, Not, Or, Text, TraceScope, Truthy

__all__ = ["VERBATIM_RECORD_FIELDS", "needs_attrs", "needs_raw", "reads_spans", "walk"]

VERBATIM_RECORD_FIELDS: Final = frozenset(
    {("event",), ("msg",), ("message",), ("trace_id",), ("span_id",), ("parent_span_id",), ("op",)}
)
"""Record fields whose string value is copied from the line (parsers must keep it so).

``level``/``ts`` are normalised (names, numbers and time formats vary) and ``error.*`` may be derived
from a traceback, so they never yield prefilter substrings.
"""

_SPAN_FIELDS: Final = frozenset({("span_id",), ("parent_span_id",)})


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents first."""
    yield node
    if isinstance(node, And | Or):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, TraceScope):
        yield from walk(node.inner)


def needs_attrs(node: Node) -> bool:
    """True when evaluating ``node`` may read the attribute mapping."""
    return any(
        isinstance(n, Compare | Exists | Truthy) and n.field.path not in RECORD_FIELDS for n in walk(node)
    )


def needs_raw(node: Node) -> bool:
    """True when evaluating ``node`` may read the raw line (full-text search)."""
    return any(isinstance(n, Text) for n in walk(node))


def reads_spans(node: Node) -> bool:
    """True when evaluating ``node`` may read a record's span or parent span id."""
    return any(isinstance(n, Compare | Exists | Truthy) and n.field.path in _SPAN_FIELDS for n in walk(node))
