"""A raw-line prefilter from the attribute names a filter needs present (``amount_usdc > 50``).

A comparison on an attribute that is false when the attribute is missing (``>``, ``==`` a non-null
value, ``contains``, ``=~``, ``exists`` …) can only match a line whose decoded mapping has that key.
For a flat JSON object the mapping *is* the object, so its first path segment is written in the line
as ``"segment`` (a dotted literal key ``"a.b"`` and a nested ``"a": {"b": …}`` both start that way).
Lines that may be nested shapes (OTLP, loguru, Docker, journald, OTel console records, whose mappings
are rebuilt from inner parts) are always let through. Like the filter's own prefilter this assumes
writers emit plain ASCII key names verbatim (no ``\\u`` escapes), and only such names are used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from agent_tui.model.query.checks import RECORD_FIELDS
from agent_tui.model.query.nodes import And, Compare, Exists, ListValue, Node, Null, Or, Truthy

__all__ = ["key_prefilter", "required_keys"]

_SAFE_KEY: Final = re.compile(r"[A-Za-z0-9_@-]+\Z")
_NESTED: Final = re.compile(rb'"(?:resourceLogs|record|stream|MESSAGE|attributes)"')
"""Keys of the nested shapes whose mappings are rebuilt (OTLP, loguru, Docker, journald, OTel)."""
_MISSING_FALSE: Final = frozenset({"<", "<=", ">", ">=", "==", "contains", "startswith", "=~", "in"})
"""Operators that are false for a missing field (``==`` and ``in`` unless null is compared)."""


def required_keys(node: Node) -> frozenset[bytes]:
    """``"segment`` byte strings every flat line matching ``node`` contains (empty when unknown)."""
    if isinstance(node, And):
        return frozenset().union(*(required_keys(item) for item in node.items))
    if isinstance(node, Or):
        return frozenset.intersection(*(required_keys(item) for item in node.items))
    if isinstance(node, Compare):
        if node.op not in _MISSING_FALSE or _null_matches(node):
            return frozenset()
        return _key_of(node.field.path)
    if isinstance(node, Exists | Truthy):
        return _key_of(node.field.path)
    return frozenset()


def _null_matches(node: Compare) -> bool:
    value = node.value
    items = value.items if isinstance(value, ListValue) else (value,)
    return any(isinstance(item, Null) for item in items)


def _key_of(path: tuple[str, ...]) -> frozenset[bytes]:
    if path in RECORD_FIELDS or path[0] in ("level", "ts", "error") or not _SAFE_KEY.match(path[0]):
        return frozenset()
    return frozenset({b'"' + path[0].encode()})


def key_prefilter(node: Node | None) -> Callable[[bytes], bool] | None:
    """``may_match(line)`` rejecting flat lines that lack a key ``node`` needs; None when none is known."""
    if node is None:
        return None
    keys = tuple(sorted(required_keys(node), key=len, reverse=True))
    if not keys:
        return None

    nested = _NESTED.search

    def may_match(line: bytes) -> bool:
        for key in keys:
            if key not in line:
                return nested(line) is not None
        return True

    return may_match
