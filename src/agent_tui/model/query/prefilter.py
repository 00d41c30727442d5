"""The one raw-byte prefilter: ``Filter.may_match_line``, False when a record's bytes cannot match.

Query, serve and the TUI's view run this same test, on the bytes of one whole record: a line, or the
lines of a record joined from Docker partial pieces (separated by ``\\n``; such a record always passes,
a needle may straddle two pieces). ``agent_tui.model.parsing.recordlines`` decides which lines of a batch are
worth parsing with it. Two kinds of evidence, both sound for any JSON spacing (``"k":"v"`` and
``"k": "v"`` alike), since neither spans a ``:`` or ``,``:

* **values** every matching record holds verbatim: string literals made of characters every JSON
  writer emits as themselves, under ``and`` the union, under ``or`` the intersection, nothing from
  ``not``, ``trace:(...)``, levels or times; an ``error.type`` (copied from the line or its traceback).
  Hex ids and error types are exempt on OTLP export lines, whose ids the parser lower-cases or decodes
  from base64, and on journald entries, whose message may be a byte array.
* **keys** a flat line must name: an attribute compared with an operator that is false when it is
  missing (``amount_usdc > 50``, ``exists(x)``) is written ``"amount_usdc`` in the line. Nested shapes
  (OTLP, loguru, Docker, journald, OTel console), whose mappings are rebuilt from inner parts, and
  lines with an escaped key (``"\\u0061mount_usdc"``) always pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from agent_tui.model.query.analysis import VERBATIM_RECORD_FIELDS
from agent_tui.model.query.checks import RECORD_FIELDS
from agent_tui.model.query.nodes import (
    And,
    Compare,
    Exists,
    ListValue,
    Node,
    Null,
    Or,
    Str,
    Text,
    Truthy,
)

__all__ = [
    "NESTED_MARKERS",
    "OTLP_MARKER",
    "REBUILT_MARKERS",
    "REBUILT_NAMES",
    "REWRITING_MARKERS",
    "Needles",
    "any_line",
    "has_escaped_key",
    "line_prefilter",
    "needles",
    "required_keys",
]

OTLP_MARKER: Final = b"resourceLogs"
"""Every OTLP/JSON export line contains this; only such lines have their ids rewritten by the parser."""

REWRITING_MARKERS: Final = (OTLP_MARKER, b'"MESSAGE"')
"""Lines holding one of these (OTLP exports, journald entries) are exempt from ``Needles.unless_otlp``."""

_KEY_END: Final = re.compile(rb"[ \t\r\n]*:")


def has_escaped_key(data: bytes, start: int = 0) -> bool:
    """True when a ``\\u`` escape may be inside an object key of ``data`` (the string it is in ends before
    a ``:``); may over-match (an invalid escape, a backslash before a newline), never misses one.

    Read string by string: from an escape, the next unescaped quote ends its string, and the search goes
    on after it. A regex tried from every escape to its string's end read python-json-logger's lines,
    whose long values hold many escapes, at 150 MB/s (quadratic in one value's escapes when it
    backtracked: 322 s for a ``query`` of 600 k lines); this reads them at about 1 GB/s.
    """
    find, key_end = data.find, _KEY_END.match
    at = find(b"\\u", start)
    while at >= 0:
        end = find(b'"', at)
        while end > 0 and data[end - 1] == 0x5C:
            back = end - 1
            while data[back - 1] == 0x5C:  # stops at the escape's "u" at the latest
                back -= 1
            if (end - back) % 2 == 0:
                break  # an even run of backslashes escapes itself, not the quote
            end = find(b'"', end + 1)
        if end < 0:
            return False
        if key_end(data, end + 1) is not None:
            return True
        at = find(b"\\u", end + 1)
    return False


NESTED_MARKERS: Final = (b'"resourceLogs"', b'"record"', b'"stream"', b'"MESSAGE"', b'"attributes"')
"""Keys of the nested shapes whose mappings are rebuilt (OTLP, loguru, Docker, journald, OTel)."""
_NESTED: Final = re.compile(b"|".join(map(re.escape, NESTED_MARKERS)))

REBUILT_MARKERS: Final = (b'"record"', b'"attributes"')
"""Loguru and OTel console lines: their attributes are keys the line holds as written (escaped keys aside),
but for the names loguru's flattening gives record fields (``REBUILT_NAMES``)."""
REBUILT_NAMES: Final = frozenset(
    {"time", "level", "message", "logger", "module", "function", "line", "file", "process", "thread", "error"}
)
"""Attribute names ``formats.shapes.loguru_flat`` may give a line that does not name them as a key."""

_JOURNALD: Final = REWRITING_MARKERS[1]
_PIECES: Final = b"\n"
"""In the bytes of one record only between the pieces of a record joined from several lines."""

_MESSAGE_FIELDS: Final = frozenset({("event",), ("msg",), ("message",)})

_JSON_SAFE = re.compile(r"[A-Za-z0-9 _.:,;=+@#$%^*()\[\]{}|~!?-]+\Z")
"""Characters every JSON writer emits as themselves (no quotes, backslashes, ``/``, ``<>&``, non-ASCII)."""

_OTLP_ID = re.compile(r"[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?\Z")
"""Ids the parser may have rewritten: OTLP ids are lower-cased, and base64 ones decoded to this hex."""

_HEX = re.compile(r"[0-9a-fA-F]+\Z")

_RENDERED = re.compile(r"[-+0-9.eE]+\Z|true\Z|false\Z|null\Z|[\[{]")
"""Message text the parser may have rendered from a non-string JSON value (``1e3`` → ``"1000.0"``)."""

_INVENTED_TYPES: Final = frozenset({"Error", "True", "False", "None"})
"""Error types the parser may write that are not in the line as such."""

_SAFE_KEY: Final = re.compile(r"[A-Za-z0-9_@-]+\Z")
_MISSING_FALSE: Final = frozenset({"<", "<=", ">", ">=", "==", "contains", "startswith", "=~", "in"})
"""Operators that are false for a missing field (``==`` and ``in`` unless null is compared)."""


@dataclass(frozen=True, slots=True)
class Needles:
    """What a matching record's bytes must contain.

    Attributes:
        always: byte strings in every record that can match.
        unless_otlp: byte strings in every record that can match, except lines holding one of
            ``REWRITING_MARKERS``: OTLP export lines, where hex ids are lower-cased or decoded from base64
            before matching, and journald entries, whose message may be written as a byte array.
    """

    always: tuple[bytes, ...]
    unless_otlp: tuple[bytes, ...]


def any_line(line: bytes) -> bool:
    """The prefilter of a filter that gives no evidence: every record may match."""
    return True


def line_prefilter(found: Needles, keys: tuple[bytes, ...] = ()) -> Callable[[bytes], bool]:
    """``may_match_line(record_bytes)`` applying value needles ``found`` and key needles ``keys``."""
    always, ids = found.always, found.unless_otlp
    if not always and not ids and not keys:
        return any_line
    if len(always) == 1 and not ids and not keys:
        needle = always[0]
        return lambda line: needle in line or _PIECES in line

    nested = _NESTED.search

    def may_match(line: bytes) -> bool:
        for needle in always:
            if needle not in line:
                return _PIECES in line
        for needle in ids:
            if needle not in line:
                return OTLP_MARKER in line or _JOURNALD in line or _PIECES in line
        for key in keys:
            if key not in line:
                return nested(line) is not None or _PIECES in line or has_escaped_key(line)
        return True

    return may_match


def needles(node: Node) -> Needles:
    """The value needles of ``node``, longest first."""
    always, unless_otlp = _needles(node)
    return Needles(_longest_first(always), _longest_first(unless_otlp - always))


def required_keys(node: Node) -> tuple[bytes, ...]:
    """``"segment`` byte strings every flat line matching ``node`` contains, longest first."""
    return _longest_first(_keys(node))


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
    if path == ("error", "type"):
        return _error_type_needle(node)
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


def _error_type_needle(node: Compare) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """``error.type == "TimeoutError"``: the parser copies the type from the line or a traceback in it.

    Not a type it may make up (``Error`` when none is given) or render (``True`` from ``true``, numbers);
    a journald line may hold its message as a byte array, so it is exempt like an OTLP line.
    """
    value = node.value
    if node.op != "==" or not isinstance(value, Str) or not _JSON_SAFE.match(value.value):
        return _NONE
    if value.value in _INVENTED_TYPES or _RENDERED.match(value.value):
        return _NONE
    return frozenset(), frozenset({value.value.encode()})


def _keys(node: Node) -> frozenset[bytes]:
    if isinstance(node, And):
        return frozenset().union(*(_keys(item) for item in node.items))
    if isinstance(node, Or):
        return frozenset.intersection(*(_keys(item) for item in node.items))
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
