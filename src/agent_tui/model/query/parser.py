"""A Pratt parser from filter tokens to the typed AST, with one binding-power table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from agent_tui.model.query.checks import check_comparison
from agent_tui.model.query.errors import FilterError
from agent_tui.model.query.lexer import Kind, Token, tokenize
from agent_tui.model.query.nodes import (
    And,
    Bool,
    Compare,
    Condition,
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
    Value,
)

__all__ = ["BINDING_POWER", "parse"]

BINDING_POWER: Final = {Kind.OR: 10, Kind.AND: 20, Kind.NOT: 30, Kind.OP: 40}
"""How tightly each operator binds: ``or`` < ``and`` < prefix ``not`` < comparisons."""

_INFIX: Final = frozenset({Kind.OR, Kind.AND, Kind.OP})
_SCALARS: Final = frozenset({Kind.STRING, Kind.NUMBER, Kind.DURATION, Kind.BOOL, Kind.NULL})


@dataclass(frozen=True, slots=True)
class _Term:
    """A field or literal not yet placed: an operand, or on its own a search/truthiness test."""

    token: Token


@dataclass(frozen=True, slots=True)
class _List:
    value: ListValue
    token: Token


_Parsed = Condition | _Term | _List


def parse(text: str) -> Node:
    """Parse filter ``text`` into an AST; empty or blank text is :class:`MatchAll`.

    Raises:
        FilterError: with the 1-based column of the first mistake.
    """
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def error(self, message: str, token: Token) -> FilterError:
        return FilterError(message, token.column, self.text)

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind is not Kind.EOF:
            self.pos += 1
        return token

    def expect(self, kind: Kind, message: str) -> Token:
        token = self.peek()
        if token.kind is not kind:
            found = "the end" if token.kind is Kind.EOF else repr(token.text)
            raise self.error(f"{message}, found {found}", token)
        return self.advance()

    def parse(self) -> Node:
        first = self.peek()
        if first.kind is Kind.EOF:
            return MatchAll()
        if self._is_trace_scope():
            self.advance()
            self.advance()
            self.expect(Kind.LPAREN, "expected '(' after 'trace:'")
            inner = self.condition(self.expression(0))
            self.expect(Kind.RPAREN, "missing ')' to close 'trace:('")
            self._expect_end()
            return TraceScope(inner)
        node = self.condition(self.expression(0))
        self._expect_end()
        return node

    def _is_trace_scope(self) -> bool:
        token = self.peek()
        return token.kind is Kind.NAME and token.text == "trace" and self.peek(1).kind is Kind.COLON

    def _expect_end(self) -> None:
        token = self.peek()
        if token.kind is Kind.EOF:
            return
        if token.kind is Kind.RPAREN:
            raise self.error("unbalanced ')': there is no '(' to close", token)
        if token.kind is Kind.COLON:
            raise self.error("'field:value' is not supported; compare with ==", token)
        raise self.error(f"expected 'and', 'or' or the end of the filter, found {token.text!r}", token)

    def expression(self, rbp: int) -> _Parsed:
        left = self.nud(self.advance())
        while self.peek().kind in _INFIX and BINDING_POWER[self.peek().kind] > rbp:
            left = self.led(left, self.advance())
        return left

    def nud(self, token: Token) -> _Parsed:
        kind = token.kind
        if kind is Kind.LPAREN:
            inner = self.expression(0)
            self.expect(Kind.RPAREN, f"missing ')' to close '(' at column {token.column}")
            return inner
        if kind is Kind.NOT:
            return Not(self.condition(self.expression(BINDING_POWER[Kind.NOT])))
        if kind is Kind.LBRACKET:
            return _List(self._list_rest(token), token)
        if (
            kind is Kind.NAME
            and self.peek().kind is Kind.LPAREN
            and token.text in ("select", "exists", "has")
        ):
            return self._call(token)
        if kind is Kind.NAME and token.text == "trace" and self.peek().kind is Kind.COLON:
            raise self.error("trace:(...) must be the whole filter", token)
        if kind is Kind.NAME or kind is Kind.FIELD or kind in _SCALARS:
            return _Term(token)
        raise self.error(self._missing_operand(token), token)

    def _missing_operand(self, token: Token) -> str:
        if token.kind is Kind.EOF:
            return "filter ended too soon: expected a condition"
        if token.kind is Kind.OP:
            return f"missing field before {token.text!r}"
        if token.kind in (Kind.AND, Kind.OR):
            return f"missing condition before {token.text!r}"
        if token.kind is Kind.RPAREN:
            return "expected a condition before ')'"
        return f"unexpected {token.text!r}: expected a condition"

    def _call(self, name: Token) -> _Parsed:
        self.advance()
        if name.text == "select":
            inner = self.condition(self.expression(0))
            self.expect(Kind.RPAREN, "missing ')' to close 'select('")
            return inner
        arg = self.advance()
        if arg.kind is Kind.STRING:
            field = Field((arg.value,))
        elif arg.kind in (Kind.NAME, Kind.FIELD):
            field = Field(arg.path)
        else:
            raise self.error(f"{name.text}(...) needs a field name", arg)
        self.expect(Kind.RPAREN, f"missing ')' to close '{name.text}('")
        return Exists(field)

    def led(self, left: _Parsed, token: Token) -> _Parsed:
        if token.kind is Kind.OP:
            return self._comparison(left, token)
        first = self.condition(left)
        right = self.condition(self.expression(BINDING_POWER[token.kind]))
        cls = And if token.kind is Kind.AND else Or
        items = [*first.items] if isinstance(first, cls) else [first]
        items.extend(right.items if isinstance(right, cls) else [right])
        return cls(tuple(items))

    def _comparison(self, left: _Parsed, op: Token) -> Condition:
        if not isinstance(left, _Term):
            if isinstance(left, Compare):
                raise self.error(f"comparisons can't be chained; join them with 'and' before {op.text!r}", op)
            raise self.error(f"left side of {op.text!r} must be a field", op)
        if left.token.kind not in (Kind.NAME, Kind.FIELD):
            raise self.error(f"left side of {op.text!r} must be a field, not a value", left.token)
        field = Field(left.token.path)
        value_token = self.peek()
        value = self._value(op)
        operator = "=~" if op.value == "~" else op.value
        message = check_comparison(field, operator, value)
        if message is not None:
            raise self.error(message, value_token)
        return Compare(field, operator, value)

    def _value(self, op: Token) -> Value:
        token = self.advance()
        if token.kind is Kind.LBRACKET:
            return self._list_rest(token)
        if token.kind is Kind.NAME:
            return Str(token.text)
        if token.kind in _SCALARS:
            return _scalar(token)
        if token.kind is Kind.FIELD:
            raise self.error(f"right side of {op.text!r} must be a value, not a field", token)
        if token.kind is Kind.EOF:
            raise self.error(f"missing value after {op.text!r}", token)
        raise self.error(f"expected a value after {op.text!r}, found {token.text!r}", token)

    def _list_rest(self, opening: Token) -> ListValue:
        items: list[Scalar] = []
        while self.peek().kind is not Kind.RBRACKET:
            token = self.advance()
            if token.kind is Kind.NAME:
                items.append(Str(token.text))
            elif token.kind in _SCALARS:
                items.append(_scalar(token))
            elif token.kind is Kind.EOF:
                raise self.error(f"missing ']' to close '[' at column {opening.column}", token)
            else:
                raise self.error(f"lists hold plain values, found {token.text!r}", token)
            nxt = self.peek()
            if nxt.kind is Kind.COMMA:
                self.advance()
            elif nxt.kind is Kind.EOF:
                raise self.error(f"missing ']' to close '[' at column {opening.column}", nxt)
            elif nxt.kind is not Kind.RBRACKET:
                raise self.error(f"expected ',' or ']' in a list, found {nxt.text!r}", nxt)
        self.advance()
        return ListValue(tuple(items))

    def condition(self, parsed: _Parsed) -> Condition:
        """Place a parsed piece where a condition is expected (bare words and strings become searches)."""
        if isinstance(parsed, _List):
            raise self.error("a list only goes after 'in'", parsed.token)
        if not isinstance(parsed, _Term):
            return parsed
        token = parsed.token
        if token.kind is Kind.FIELD:
            return Truthy(Field(token.path))
        if token.kind is Kind.NAME:
            return Text(".".join(token.path))
        if token.kind is Kind.STRING:
            return Text(token.value)
        return Text(token.text)


def _scalar(token: Token) -> Scalar:
    if token.kind is Kind.STRING:
        return Str(token.value)
    if token.kind is Kind.NUMBER:
        return Num(token.number)
    if token.kind is Kind.DURATION:
        return Duration(token.number, token.value)
    if token.kind is Kind.BOOL:
        return Bool(token.text == "true")
    return Null()
