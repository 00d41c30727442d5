"""Properties over generated filters: printing round-trips and the prefilter is sound."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_tui.model.query import FilterError, compile_ast, parse
from agent_tui.model.query.nodes import Condition, Node
from tests.unit.query.strategies import anchored_conditions, log_objects, nodes
from tests.unit.query.subjects import subject


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(nodes)
def test_printing_an_ast_reparses_to_the_same_ast(node: Node) -> None:
    """For any AST the parser can produce, parse(str(ast)) == ast."""
    assert parse(str(node)) == node


def _go_style(obj: dict[str, Any]) -> bytes:
    """JSON the way writers that escape HTML characters and slashes write it."""
    text = json.dumps(obj, ensure_ascii=True)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("/", "\\/"),
        ("'", "\\u0027"),
    ):
        text = text.replace(char, escaped)
    return text.encode()


WRITERS = [orjson.dumps, lambda o: json.dumps(o).encode(), _go_style]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(log_objects, st.data(), st.sampled_from(WRITERS))
def test_required_substrings_are_in_every_matching_line(
    obj: dict[str, Any], data: st.DataObject, write: Any
) -> None:
    """If a record matches, its raw line contains every required substring, whatever wrote the JSON."""
    condition: Condition = data.draw(anchored_conditions(obj))
    flt = compile_ast(condition, now=lambda: 0.0)
    s = subject(obj, raw=write(obj))
    if flt.matches(s):
        for needle in flt.required_substrings + flt.id_substrings:
            assert needle in s.raw, (str(condition), needle, s.raw)
        assert flt.may_match_line(s.raw)


def test_prefilter_yields_the_documented_substrings() -> None:
    """Safe string equalities give their value; and unions, or intersects, unsafe values give nothing."""
    from agent_tui.model.query import compile_filter

    def req(text: str) -> tuple[bytes, ...]:
        return compile_filter(text).required_substrings

    assert req('trace_id == "abc123"') == (b"abc123",)
    assert req('select(.event == "bet.complete" and .outcome == "loss")') == (b"bet.complete", b"loss")
    assert req('a == "x1" or b == "x2"') == ()
    assert req('(a == "k" and b == "x1") or (a == "k" and c == "x2")') == (b"k",)
    assert req('not a == "x"') == ()
    assert req('a != "x"') == ()
    assert req("level == error") == ()
    assert req('error.type == "TimeoutError"') == ()
    assert req('path == "a/b"') == ()
    assert req('name == "é"') == ()
    assert req('q == "say \\"hi\\""') == ()
    assert req("Timeout") == (b"Timeout",)
    assert req("timeout") == ()
    assert req('x in ["one"]') == (b"one",)
    assert req('x in ["one", "two"]') == ()
    assert req('trace:(trace_id == "abc")') == ()
    assert req('x contains "needle" and y startswith "pre"') == (b"needle", b"pre")
    hex_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert req(f'trace_id == "{hex_id}"') == ()
    assert compile_filter(f'trace_id == "{hex_id}" and x == "k"').id_substrings == (hex_id.encode(),)
    assert compile_filter('trace_id contains "4bf92f"').id_substrings == (b"4bf92f",)
    assert compile_filter('span_id == "AB" or span_id == "ab"').id_substrings == ()


def test_may_match_line_lets_otlp_lines_through_for_hex_ids() -> None:
    """A hex-id needle rejects ordinary lines without it but never an OTLP export line."""
    from agent_tui.model.query import compile_filter

    flt = compile_filter('trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and event == "bet.complete"')
    assert flt.may_match_line(b'{"event":"bet.complete","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}')
    assert not flt.may_match_line(b'{"event":"bet.complete","trace_id":"ffff"}')
    otlp = b'{"resourceLogs":[{"body":"bet.complete","traceId":"S/kvNXezTaajzpKdDg5HNg=="}]}'
    assert flt.may_match_line(otlp)
    assert not flt.may_match_line(b'{"resourceLogs":[{"body":"other","traceId":"x"}]}')


PIECES = [
    "level",
    ".a",
    "x.y",
    '"s"',
    "'t'",
    "1",
    "-2.5",
    "3s",
    "-15m",
    "true",
    "null",
    "==",
    "!=",
    "<",
    ">=",
    "=~",
    "~",
    "!~",
    "contains",
    "startswith",
    "in",
    "and",
    "or",
    "not",
    "!",
    "&&",
    "||",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "trace",
    "select",
    "exists",
    "has",
    ".",
    '"',
    "\\",
    "=",
    "|",
    "#",
    "é",
    "1e999",
    "7f3a",
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(PIECES), max_size=12).map(" ".join)))
def test_any_text_compiles_or_raises_filter_error(text: str) -> None:
    """Arbitrary input never crashes the compiler: it compiles (and round-trips) or raises FilterError."""
    try:
        flt = compile_ast(parse(text))
    except FilterError as err:
        assert 1 <= err.column <= len(text) + 1
        return
    assert parse(str(flt.ast)) == flt.ast
