"""Static facts about a filter: which parts of a record it reads and a sound raw-line prefilter."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from agent_tui.model.query.checks import RECORD_FIELDS
from agent_tui.model.query.nodes import (
    And,
    Compare,
    Exists,
    ListValue,
    Node,
    Not,
    Or,
    Str,
    Text,
    TraceScope,
    Truthy,
)

__all__ = [
    "OTLP_MARKER",
    "VERBATIM_RECORD_FIELDS",
    "Needles",
    "line_prefilter",
    "needles",
    "needs_attrs",
    "needs_raw",
    "walk",
]

VERBATIM_RECORD_FIELDS: Final = frozenset(
    {("event",), ("msg",), ("message",), ("trace_id",), ("span_id",), ("parent_span_id",), ("op",)}
)
"""Record fields whose string value is copied from the line (parsers must keep it so).

``level``/``ts`` are normalised (names, numbers and time formats vary) and ``error.*`` may be derived
from a traceback, so they never yield prefilter substrings.
"""

_MESSAGE_FIELDS: Final = frozenset({("event",), ("msg",), ("message",)})

_JSON_SAFE = re.compile(r"[A-Za-z0-9 _.:,;=+@#$%^*()\[\]{}|~!?-]+\Z")
"""Characters every JSON writer emits as themselves (no quotes, backslashes, ``/``, ``<>&``, non-ASCII)."""

_OTLP_ID = re.compile(r"[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?\Z")
"""Ids the parser may have rewritten: OTLP ids are lower-cased, and base64 ones decoded to this hex."""

_HEX = re.compile(r"[0-9a-fA-F]+\Z")

_RENDERED = re.compile(r"[-+0-9.eE]+\Z|true\Z|false\Z|null\Z|[\[{]")
"""Message text the parser may have rendered from a non-string JSON value (``1e3`` → ``"1000.0"``)."""


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


OTLP_MARKER: Final = b"resourceLogs"
"""Every OTLP/JSON export line contains this; only such lines have their ids rewritten by the parser."""


@dataclass(frozen=True, slots=True)
class Needles:
    """What a matching line must contain.

    Attributes:
        always: byte strings in every line that can match.
        unless_otlp: byte strings in every line that can match, except OTLP export lines (which contain
            ``OTLP_MARKER``), where hex ids are lower-cased or decoded from base64 before matching.
    """

    always: tuple[bytes, ...]
    unless_otlp: tuple[bytes, ...]


def _any_line(line: bytes) -> bool:
    return True


def line_prefilter(found: Needles) -> Callable[[bytes], bool]:
    """A fast ``may_match_line(line)`` test applying ``found`` to the bytes of a whole record."""
    always, ids = found.always, found.unless_otlp
    if not always and not ids:
        return _any_line
    if not ids:
        if len(always) == 1:
            needle = always[0]
            return lambda line: needle in line
        if len(always) == 2:
            first, second = always
            return lambda line: first in line and second in line
        return lambda line: all(n in line for n in always)
    if not always and len(ids) == 1:
        only = ids[0]
        return lambda line: only in line or OTLP_MARKER in line

    def may_match(line: bytes) -> bool:
        for needle in always:
            if needle not in line:
                return False
        for needle in ids:
            if needle not in line:
                return OTLP_MARKER in line
        return True

    return may_match


def needles(node: Node) -> Needles:
    """The prefilter of ``node``, longest needles first.

    Sound by construction: only string values that JSON writes verbatim, under ``and`` the union,
    under ``or`` the intersection, and nothing from ``not``, ``trace:(...)``, levels or times.
    """
    always, unless_otlp = _needles(node)
    return Needles(_longest_first(always), _longest_first(unless_otlp - always))


def _longest_first(found: frozenset[bytes]) -> tuple[bytes, ...]:
    return tuple(sorted(found, key=lambda b: (-len(b), b)))


_NONE: Final[tuple[frozenset[bytes], frozenset[bytes]]] = (frozenset(), frozenset())


def _needles(node: Node) -> tuple[frozenset[bytes], frozenset[bytes]]:
    if isinstance(node, And):
        parts = [_needles(item) for item in node.items]
        always = frozenset().union(*(a for a, _ in parts))
        return always, frozenset().union(*(u for _, u in parts)) - always
    if isinstance(node, Or):
        parts = [_needles(item) for item in node.items]
        always = frozenset.intersection(*(a for a, _ in parts))
        either = frozenset.intersection(*(a | u for a, u in parts))
        return always, either - always
    if isinstance(node, Text):
        return _text_needle(node.term), frozenset()
    if isinstance(node, Compare):
        return _compare_needle(node)
    return _NONE


def _text_needle(term: str) -> frozenset[bytes]:
    # Mirrors the compiler's smartcase rule: only a case-sensitive search needs the exact bytes.
    if term and (term != term.lower() or term == term.upper()):
        return frozenset({term.encode()})
    return frozenset()


def _compare_needle(node: Compare) -> tuple[frozenset[bytes], frozenset[bytes]]:
    path = node.field.path
    if path in RECORD_FIELDS and path not in VERBATIM_RECORD_FIELDS:
        return _NONE
    value = node.value
    if node.op == "in" and isinstance(value, ListValue) and len(value.items) == 1:
        value = value.items[0]
    elif node.op not in ("==", "contains", "startswith"):
        return _NONE
    if not isinstance(value, Str) or not _JSON_SAFE.match(value.value):
        return _NONE
    if path in _MESSAGE_FIELDS and (node.op in ("contains", "startswith") or _RENDERED.match(value.value)):
        # Journald writes unprintable messages as byte arrays, and non-string messages are rendered,
        # so only a whole printable message is sure to be in the line as written.
        return _NONE
    needle = frozenset({value.value.encode()})
    if (_HEX if node.op in ("contains", "startswith") else _OTLP_ID).match(value.value):
        return frozenset(), needle
    return needle, frozenset()
