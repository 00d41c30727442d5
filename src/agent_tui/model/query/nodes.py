"""The typed filter AST: frozen value nodes that print back to filter source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DURATION_UNITS",
    "KEYWORDS",
    "And",
    "Bool",
    "Compare",
    "Condition",
    "Duration",
    "Exists",
    "Field",
    "ListValue",
    "MatchAll",
    "Node",
    "Not",
    "Null",
    "Num",
    "Or",
    "Scalar",
    "Str",
    "Text",
    "TraceScope",
    "Truthy",
    "Value",
    "quote",
]

KEYWORDS: Final = frozenset(
    {
        "and",
        "or",
        "not",
        "AND",
        "OR",
        "NOT",
        "contains",
        "startswith",
        "in",
        "true",
        "false",
        "null",
        "trace",
        "select",
        "exists",
        "has",
    }
)
"""Words that mean something to the parser; fields with these names print with a leading dot."""

_FIRST_SEGMENT = re.compile(r"[A-Za-z_@][\w@-]*\Z")
_SEGMENT = re.compile(r"[\w@-]+\Z")
_BARE_TEXT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _is_bare_word(text: str) -> bool:
    return _BARE_TEXT.match(text) is not None and text not in KEYWORDS


_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str) -> str:
    """Render ``text`` as a double-quoted filter string literal that lexes back to ``text``."""
    out = []
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " " or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


@dataclass(frozen=True, slots=True)
class Field:
    """A field path: ``level``, ``error.type``, ``."gen_ai.usage.input_tokens"`` (one key holding dots)."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        """The dotted name (``error.type``), used for the record-field table and unit rules."""
        return ".".join(self.path)

    def __str__(self) -> str:
        parts = [seg if _SEGMENT.match(seg) else quote(seg) for seg in self.path]
        first = self.path[0]
        if _FIRST_SEGMENT.match(first) and first not in KEYWORDS:
            return ".".join(parts)
        return "." + ".".join(parts)


@dataclass(frozen=True, slots=True)
class Str:
    """A string literal."""

    value: str

    def __str__(self) -> str:
        return quote(self.value)


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal (int or float, never bool)."""

    value: int | float

    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class Bool:
    """``true`` or ``false``."""

    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True, slots=True)
class Null:
    """``null``: equal to a JSON null or a missing field."""

    def __str__(self) -> str:
        return "null"


DURATION_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
"""Seconds per duration unit."""


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration such as ``150ms`` or ``1.5m``; negative ones (``-15m``) are times relative to now."""

    amount: int | float
    unit: str

    @property
    def seconds(self) -> float:
        """The duration in seconds (negative for relative times)."""
        return self.amount * DURATION_UNITS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount!r}{self.unit}"


Scalar = Str | Num | Bool | Null | Duration


@dataclass(frozen=True, slots=True)
class ListValue:
    """``[a, b, ...]``, only valid after ``in``."""

    items: tuple[Scalar, ...]

    def __str__(self) -> str:
        return "[" + ", ".join(str(item) for item in self.items) + "]"


Value = Scalar | ListValue


@dataclass(frozen=True, slots=True)
class Compare:
    """``field OP value`` where OP is ``== != < <= > >= =~ !~ contains startswith in``."""

    field: Field
    op: str
    value: Value

    def __str__(self) -> str:
        value = self.value
        if self.field.path == ("level",) and isinstance(value, Str) and _is_bare_word(value.value):
            return f"level {self.op} {value.value}"
        return f"{self.field} {self.op} {value}"


@dataclass(frozen=True, slots=True)
class Exists:
    """``exists(field)`` / ``has(field)``: the field is present (even when null)."""

    field: Field

    def __str__(self) -> str:
        return f"exists({self.field})"


@dataclass(frozen=True, slots=True)
class Truthy:
    """A jq-style bare ``.field``: present and neither null nor false."""

    field: Field

    def __str__(self) -> str:
        return "." + str(self.field).removeprefix(".")


@dataclass(frozen=True, slots=True)
class Text:
    """Full-text search of the raw line (smartcase)."""

    term: str

    def __str__(self) -> str:
        if _is_bare_word(self.term):
            return self.term
        return quote(self.term)


@dataclass(frozen=True, slots=True)
class Not:
    """``not x`` / ``!x``."""

    operand: Condition

    def __str__(self) -> str:
        inner = str(self.operand)
        if isinstance(self.operand, And | Or):
            inner = f"({inner})"
        return f"not {inner}"


@dataclass(frozen=True, slots=True)
class And:
    """All of two or more conditions (flattened: nested ``and`` chains become one node)."""

    items: tuple[Condition, ...]

    def __str__(self) -> str:
        return " and ".join(f"({item})" if isinstance(item, Or) else str(item) for item in self.items)


@dataclass(frozen=True, slots=True)
class Or:
    """Any of two or more conditions (flattened)."""

    items: tuple[Condition, ...]

    def __str__(self) -> str:
        return " or ".join(str(item) for item in self.items)


@dataclass(frozen=True, slots=True)
class TraceScope:
    """``trace:(inner)``: keep whole traces that contain a record matching ``inner``."""

    inner: Condition

    def __str__(self) -> str:
        return f"trace:({self.inner})"


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty filter: every record matches."""

    def __str__(self) -> str:
        return ""


Condition = Compare | Exists | Truthy | Text | Not | And | Or
Node = Condition | TraceScope | MatchAll
