"""Split filter text into positioned tokens."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from agent_tui.model.query.errors import FilterError
from agent_tui.model.query.nodes import DURATION_UNITS

__all__ = ["Kind", "Token", "tokenize"]


class Kind(Enum):
    """What a token is."""

    NAME = "name"  # bare word or dotted path: level, error.type, bet.complete
    FIELD = "field"  # jq-style path with a leading dot: .level, ."gen_ai.usage"
    STRING = "string"
    NUMBER = "number"
    DURATION = "duration"
    BOOL = "bool"
    NULL = "null"
    OP = "operator"  # == != < <= > >= =~ !~ ~ contains startswith in
    AND = "and"
    OR = "or"
    NOT = "not"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    COLON = ":"
    EOF = "end of filter"


@dataclass(frozen=True, slots=True)
class Token:
    """One token with its 1-based column and source text."""

    kind: Kind
    column: int
    text: str
    value: str = ""
    """Decoded string, operator spelling, or duration unit."""
    number: int | float = 0
    path: tuple[str, ...] = ()


_OPERATORS: Final = frozenset({"==", "!=", "<", "<=", ">", ">=", "=~", "!~", "~"})
_WORD_OPS: Final = {
    "and": Kind.AND,
    "AND": Kind.AND,
    "&&": Kind.AND,
    "or": Kind.OR,
    "OR": Kind.OR,
    "||": Kind.OR,
    "not": Kind.NOT,
    "NOT": Kind.NOT,
    "!": Kind.NOT,
}
_WORD_COMPARISONS: Final = frozenset({"contains", "startswith", "in"})
_PUNCT: Final = {
    "(": Kind.LPAREN,
    ")": Kind.RPAREN,
    "[": Kind.LBRACKET,
    "]": Kind.RBRACKET,
    ",": Kind.COMMA,
    ":": Kind.COLON,
}
_OP_HINTS: Final = {
    "=": "unknown operator '='; use == to compare",
    "&": "unknown operator '&'; use 'and' or &&",
    "|": "pipes are not supported; write only the condition inside select(...)",
}
_OP_RUN = re.compile(r"[=!<>~&|]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_UNIT = re.compile(r"[^\W\d]\w*")
_NAME = re.compile(r"(?:[^\W\d]|@)[\w@-]*")
_SEGMENT = re.compile(r"[\w@-]+")
_SIMPLE_ESCAPES: Final = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an EOF token.

    Raises:
        FilterError: on an unterminated string, an unknown operator, a bad number or duration, or a
            character that starts no token.
    """
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            tokens.append(Token(Kind.EOF, end + 1, ""))
            return tokens
        token, pos = _next_token(text, pos)
        tokens.append(token)


def _next_token(text: str, pos: int) -> tuple[Token, int]:
    char = text[pos]
    column = pos + 1
    if char in _PUNCT:
        return Token(_PUNCT[char], column, char), pos + 1
    if char in "\"'":
        value, stop = _string(text, pos)
        return Token(Kind.STRING, column, text[pos:stop], value), stop
    if _NUMBER.match(text, pos):
        return _number(text, pos)
    if char == ".":
        path, stop = _path(text, pos, leading_dot=True)
        return Token(Kind.FIELD, column, text[pos:stop], path=path), stop
    run = _OP_RUN.match(text, pos)
    if run:
        op = run.group()
        if op in _OPERATORS:
            return Token(Kind.OP, column, op, op), run.end()
        if op in _WORD_OPS:
            return Token(_WORD_OPS[op], column, op, op), run.end()
        raise FilterError(_OP_HINTS.get(op, f"unknown operator '{op}'"), column, text)
    if _NAME.match(text, pos):
        return _word(text, pos)
    raise FilterError(f"unexpected character {char!r}", column, text)


def _word(text: str, pos: int) -> tuple[Token, int]:
    path, stop = _path(text, pos, leading_dot=False)
    source = text[pos:stop]
    column = pos + 1
    if len(path) == 1 and source == path[0]:
        if source in _WORD_OPS:
            return Token(_WORD_OPS[source], column, source, source), stop
        if source in _WORD_COMPARISONS:
            return Token(Kind.OP, column, source, source), stop
        if source in ("true", "false"):
            return Token(Kind.BOOL, column, source, source), stop
        if source == "null":
            return Token(Kind.NULL, column, source), stop
    return Token(Kind.NAME, column, source, path=path), stop


def _path(text: str, pos: int, *, leading_dot: bool) -> tuple[tuple[str, ...], int]:
    """Read ``name(.seg)*`` or ``.seg(.seg)*`` where a seg is a word or a quoted key."""
    segments: list[str] = []
    if not leading_dot:
        match = _NAME.match(text, pos)
        assert match is not None
        segments.append(match.group())
        pos = match.end()
    while pos < len(text) and text[pos] == ".":
        nxt = text[pos + 1] if pos + 1 < len(text) else ""
        if nxt in ("'", '"'):
            value, pos = _string(text, pos + 1)
            segments.append(value)
            continue
        match = _SEGMENT.match(text, pos + 1)
        if match is None:
            if leading_dot and not segments:
                raise FilterError("expected a field name after '.'", pos + 1, text)
            break
        segments.append(match.group())
        pos = match.end()
    return tuple(segments), pos


def _string(text: str, pos: int) -> tuple[str, int]:
    """Decode the string literal starting at the quote at ``pos``; unknown escapes keep their backslash."""
    quote_char = text[pos]
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == quote_char:
            return "".join(out), i + 1
        if char == "\\" and i + 1 < len(text):
            esc = text[i + 1]
            if esc == "u":
                digits = text[i + 2 : i + 6]
                if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise FilterError("bad \\u escape: expected four hex digits", i + 1, text)
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            out.append(_SIMPLE_ESCAPES.get(esc, "\\" + esc))
            i += 2
            continue
        out.append(char)
        i += 1
    raise FilterError("unterminated string", pos + 1, text)


def _number(text: str, pos: int) -> tuple[Token, int]:
    match = _NUMBER.match(text, pos)
    assert match is not None
    digits = match.group()
    value: int | float = float(digits) if match.group(1) or match.group(2) else int(digits)
    column = pos + 1
    if isinstance(value, float) and not math.isfinite(value):
        raise FilterError(f"number out of range: {digits}", column, text)
    unit_match = _UNIT.match(text, match.end())
    if unit_match is None:
        return Token(Kind.NUMBER, column, digits, number=value), match.end()
    unit = unit_match.group()
    source = text[pos : unit_match.end()]
    if unit not in DURATION_UNITS:
        raise FilterError(
            f"bad duration {source!r}: units are ns us ms s m h d (quote it if it is a string)",
            column,
            text,
        )
    return Token(Kind.DURATION, column, source, unit, number=value), unit_match.end()
