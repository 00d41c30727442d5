"""The parser builds the typed AST the language promises, and the AST prints back to source."""

from __future__ import annotations

import pytest

from agent_tui.model.query import parse
from agent_tui.model.query.lexer import Kind
from agent_tui.model.query.nodes import (
    And,
    Bool,
    Compare,
    Duration,
    Exists,
    Field,
    ListValue,
    MatchAll,
    Not,
    Null,
    Num,
    Or,
    Str,
    Text,
    TraceScope,
    Truthy,
)
from agent_tui.model.query.parser import BINDING_POWER


def cmp(name: str, op: str, value: object) -> Compare:
    return Compare(Field(tuple(name.split("."))), op, value)  # type: ignore[arg-type]


SEED = [
    ('select(.level == "error")', cmp("level", "==", Str("error"))),
    ('select(.trace_id == "t_7f3a2c9d")', cmp("trace_id", "==", Str("t_7f3a2c9d"))),
    (
        'select(.event == "bet.complete" and .outcome == "loss" and .amount_usdc > 50)',
        And(
            (
                cmp("event", "==", Str("bet.complete")),
                cmp("outcome", "==", Str("loss")),
                cmp("amount_usdc", ">", Num(50)),
            )
        ),
    ),
    ('select(.escrow_id == "esc_4b8c1a3e")', cmp("escrow_id", "==", Str("esc_4b8c1a3e"))),
    (
        'select(.outcome == "loss" and .amount_usdc > 20)',
        And((cmp("outcome", "==", Str("loss")), cmp("amount_usdc", ">", Num(20)))),
    ),
]


@pytest.mark.parametrize(("text", "expected"), SEED)
def test_seed_jq_filters_parse_verbatim(text: str, expected: object) -> None:
    """Each jq filter from the seed document parses, with select(...), to the intended comparisons."""
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "expected"), SEED)
def test_seed_jq_filters_parse_without_select(text: str, expected: object) -> None:
    """The same jq conditions without the select(...) wrapper parse to the same tree."""
    assert parse(text.removeprefix("select(").removesuffix(")")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("level", Text("level")),
        ("timeout", Text("timeout")),
        ('"rate limit"', Text("rate limit")),
        ("'rate limit'", Text("rate limit")),
        ("bet.complete", Text("bet.complete")),
        ("429", Text("429")),
        (".dry_run", Truthy(Field(("dry_run",)))),
        ("exists(error)", Exists(Field(("error",)))),
        ("has(.escrow_id)", Exists(Field(("escrow_id",)))),
        ('has("gen_ai.usage")', Exists(Field(("gen_ai.usage",)))),
        ("", MatchAll()),
        ("   ", MatchAll()),
    ],
)
def test_bare_terms_are_searches_or_tests(text: str, expected: object) -> None:
    """A lone word or string is a full-text search, a lone .field a jq truthiness test, '' matches all."""
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("error.type == X", cmp("error.type", "==", Str("X"))),
        ('."gen_ai.usage.input_tokens" > 5', Compare(Field(("gen_ai.usage.input_tokens",)), ">", Num(5))),
        ('.a."b.c" == 1', Compare(Field(("a", "b.c")), "==", Num(1))),
        ("@timestamp > 1", Compare(Field(("@timestamp",)), ">", Num(1))),
        ("x-request-id == abc", Compare(Field(("x-request-id",)), "==", Str("abc"))),
        (".in == 1", Compare(Field(("in",)), "==", Num(1))),
    ],
)
def test_field_paths(text: str, expected: object) -> None:
    """Bare, dotted, jq-style, quoted-key and keyword-named fields parse to the right path."""
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'x == "a\"b\\c\n\u00e9"', Str('a"b\\c\né')),
        (r"x == 'it\'s'", Str("it's")),
        (r'x =~ "\d+"', Str(r"\d+")),
        ("x == -1.5e3", Num(-1500.0)),
        ("x == 42", Num(42)),
        ("x == true", Bool(True)),
        ("x == false", Bool(False)),
        ("x == null", Null()),
        ("x > 150ms", Duration(150, "ms")),
        ("x > 1.5m", Duration(1.5, "m")),
        ("x > 2µs", Duration(2, "µs")),
        ("ts > -15m", Duration(-15, "m")),
        ("x == loss", Str("loss")),
        ("x in [a, 1, true, null]", ListValue((Str("a"), Num(1), Bool(True), Null()))),
        ("x in []", ListValue(())),
    ],
)
def test_literals(text: str, value: object) -> None:
    """String escapes (unknown ones keep their backslash), numbers, durations, keywords and lists."""
    node = parse(text)
    assert isinstance(node, Compare)
    assert node.value == value


def test_operators_and_spellings() -> None:
    """Every comparison operator parses; ~ is =~; &&, ||, !, AND, OR, NOT are the word operators."""
    for op in ["==", "!=", "<", "<=", ">", ">=", "=~", "!~", "contains", "startswith"]:
        node = parse(f'x {op} "1"')
        assert isinstance(node, Compare)
        assert node.op == op
    assert parse('x ~ "a"') == parse('x =~ "a"')
    assert parse("a && b || !c") == parse("a and b or not c") == parse("a AND b OR NOT c")


def test_precedence_follows_the_binding_power_table() -> None:
    """or < and < not < comparisons, and parentheses override."""
    assert BINDING_POWER[Kind.OR] < BINDING_POWER[Kind.AND] < BINDING_POWER[Kind.NOT] < BINDING_POWER[Kind.OP]
    assert parse("a or b and c") == Or((Text("a"), And((Text("b"), Text("c")))))
    assert parse("(a or b) and c") == And((Or((Text("a"), Text("b"))), Text("c")))
    assert parse("not x == 1 and b") == And((Not(cmp("x", "==", Num(1))), Text("b")))
    assert parse("a and b and c") == parse("a and (b and c)") == And((Text("a"), Text("b"), Text("c")))


def test_trace_scope() -> None:
    """trace:(...) wraps the whole filter."""
    assert parse('trace:(error.type == "TimeoutError")') == TraceScope(
        cmp("error.type", "==", Str("TimeoutError"))
    )


@pytest.mark.parametrize(
    "text",
    [
        'select(.event == "bet.complete" and .outcome == "loss" and .amount_usdc > 50)',
        "level >= warning and not (a or b)",
        "not not a",
        'x == "tab\there \\ \u0001"',
        'a."b c".d == 1 and .true == false',
        "trace:(a or b and exists(c))",
        'ts > -1.5h or ts < "2026-03-04T03:00:00+01:00"',
        "x in [1, 2.5, 'a', null] and y contains z and z startswith 'q'",
        '"and" or "x y" or "" or 12',
        "level in [warning, error]",
    ],
)
def test_printing_round_trips(text: str) -> None:
    """str(ast) re-parses to an equal AST for a spread of constructs."""
    node = parse(text)
    assert parse(str(node)) == node


def test_printing_is_readable() -> None:
    """Printed filters drop select(...) and jq dots and keep level names bare."""
    assert (
        str(parse('select(.level == "error" and .amount_usdc > 50)')) == "level == error and amount_usdc > 50"
    )
    assert str(parse("x == loss")) == 'x == "loss"'
    assert str(parse('."gen_ai.usage.input_tokens" > 5')) == '."gen_ai.usage.input_tokens" > 5'
