"""Every kind of mistake raises FilterError with a clear message and the column it is about."""

from __future__ import annotations

import pytest

from agent_tui.model.query import FilterError, compile_filter

MISTAKES = [
    # (kind, filter, column, words the message contains)
    ("unterminated string", 'event == "bet.comp', 10, "unterminated string"),
    ("unterminated single-quoted string", "x == 'abc", 6, "unterminated string"),
    ("bad \\u escape", r'x == "\u12"', 7, "\\u escape"),
    ("single =", 'level = "error"', 7, "use =="),
    ("unknown operator", "x === 1", 3, "unknown operator '==='"),
    ("unknown operator <>", "x <> 1", 3, "unknown operator '<>'"),
    ("lone &", "a & b", 3, "use 'and'"),
    ("jq pipe", 'select(.level == "error") | .error.type', 27, "pipes are not supported"),
    ("unexpected character", "x == 1 # note", 8, "unexpected character '#'"),
    ("missing value", "level ==", 9, "missing value after '=='"),
    ("missing field", "== 5", 1, "missing field before '=='"),
    ("missing right operand of and", "a and", 6, "ended too soon"),
    ("missing left operand of or", "or b", 1, "missing condition before 'or'"),
    ("empty parentheses", "()", 2, "expected a condition before ')'"),
    ("unclosed paren", "(a or b", 8, "missing ')' to close '(' at column 1"),
    ("unopened paren", "a or b)", 7, "unbalanced ')'"),
    ("unclosed select", 'select(.a == "x"', 17, "missing ')' to close 'select('"),
    ("bad regex", 'msg =~ "(unclosed"', 8, "bad regex"),
    ("regex needs string", "msg =~ 5", 8, "needs a regular expression"),
    ("bad duration unit", "duration_ms > 2x", 15, "bad duration '2x'"),
    ("hex id unquoted", "trace_id == 7f3a2c9d", 13, "quote it"),
    ("number out of range", "x > 1e999", 5, "number out of range"),
    ("in without list", 'outcome in "loss"', 12, "'in' needs a list"),
    ("list elsewhere", "x == [1, 2]", 6, "a list only goes after 'in'"),
    ("lone list", "[1, 2]", 1, "a list only goes after 'in'"),
    ("unclosed list", "x in [1, 2", 11, "missing ']'"),
    ("list missing comma", "x in [1 2]", 9, "expected ',' or ']'"),
    ("list of fields", "x in [.a]", 7, "lists hold plain values"),
    ("trailing garbage", 'level == "error" extra', 18, "expected 'and', 'or' or the end"),
    ("two values", "x == 1 2", 8, "expected 'and', 'or' or the end"),
    ("chained comparison", "1 < x < 5", 1, "must be a field, not a value"),
    ("chained comparison after field", "x < 5 < 7", 7, "can't be chained"),
    ("value on the left", '"error" == level', 1, "must be a field, not a value"),
    ("field on the right", "a == .b", 6, "must be a value, not a field"),
    ("unknown level", "level >= loud", 10, "unknown level 'loud'"),
    ("bad time", 'ts >= "yesterday"', 7, "not an RFC 3339 time"),
    ("positive relative time", "ts > 15m", 6, "needs a minus: -15m"),
    ("order by bool", "x > true", 5, "can't order by true"),
    ("startswith number", "x startswith 5", 14, "startswith needs a string"),
    ("nested trace scope", "a and trace:(b)", 7, "must be the whole filter"),
    ("trace without parens", "trace: a", 8, "expected '(' after 'trace:'"),
    ("exists without field", "exists(5)", 8, "needs a field name"),
    ("dot without name", "x == 1 and . == 2", 12, "expected a field name after '.'"),
    ("lucene-style colon", "level:error", 6, "compare with =="),
]


@pytest.mark.parametrize(("kind", "text", "column", "words"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistake_reports_message_and_column(kind: str, text: str, column: int, words: str) -> None:
    """The mistake is rejected with a message naming the problem at the right 1-based column."""
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    err = caught.value
    assert words in err.message
    assert err.column == column
    assert err.text == text


def test_caret_points_at_the_column() -> None:
    """caret() renders the filter with a ^ under the bad column followed by the message."""
    with pytest.raises(FilterError) as caught:
        compile_filter('level >= warning and msg =~ "(x"')
    lines = caught.value.caret().splitlines()
    assert lines[0] == 'level >= warning and msg =~ "(x"'
    assert lines[1].index("^") == lines[0].index('"(x"')
    assert lines[1].endswith("^ bad regex: missing ), unterminated subpattern")


def test_caret_neutralises_control_characters() -> None:
    """Escape characters typed into a filter are shown as spaces so they cannot drive the terminal."""
    with pytest.raises(FilterError) as caught:
        compile_filter("\x1b[31m == 1 )")
    shown = caught.value.caret()
    assert "\x1b" not in shown
    assert str(caught.value).endswith(f"(column {caught.value.column})")


def test_filter_error_is_a_value_error() -> None:
    """Callers that catch ValueError also catch filter mistakes."""
    with pytest.raises(ValueError, match="unterminated"):
        compile_filter('"abc')


def test_empty_filter_matches_everything() -> None:
    """Empty or blank input is not an error: it is the filter that keeps every record."""
    for text in ("", "  \t "):
        flt = compile_filter(text)
        assert flt.match_all
        assert flt.matches(None)  # type: ignore[arg-type]
