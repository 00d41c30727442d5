"""Compiled filters select the records the language documentation says they select."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from agent_tui.model.query import StaticSubject, compile_filter
from agent_tui.model.record import ErrorInfo, Record
from agent_tui.schema import Level, parse_level
from tests.unit.query.subjects import raw_subject, subject

BET = {
    "ts": "2026-03-04T03:00:05Z",
    "level": "info",
    "event": "bet.complete",
    "trace_id": "t_7f3a2c9d",
    "outcome": "loss",
    "amount_usdc": 75.5,
    "duration_ms": 2500,
    "latency_s": 1.25,
    "providers": ["oddsfeed", "newsapi"],
    "dry_run": False,
    "note": None,
    "gen_ai.usage.input_tokens": 12,
    "gen_ai": {"usage": {"input_tokens": 99, "output_tokens": 7}},
    "http": {"status": 503, "headers": [{"k": "a"}]},
}


def matches(text: str, obj: Mapping[str, Any] = BET, now: float = 1772593205.0) -> bool:
    return compile_filter(text, now=lambda: now).matches(subject(dict(obj)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('select(.event == "bet.complete" and .outcome == "loss" and .amount_usdc > 50)', True),
        ('select(.event == "bet.complete" and .outcome == "loss" and .amount_usdc > 80)', False),
        ('select(.trace_id == "t_7f3a2c9d")', True),
        ('.trace_id == "t_other"', False),
        ('select(.level == "error")', False),
        ('select(.escrow_id == "esc_4b8c1a3e")', False),
    ],
)
def test_seed_filters_select_like_jq(text: str, expected: bool) -> None:
    """The seed's jq filters keep exactly the records jq would keep."""
    assert matches(text) is expected


@pytest.mark.parametrize(
    "line",
    [
        {"level": 50, "msg": "pino error"},
        {"levelname": "ERROR", "message": "stdlib"},
        {"level": "error", "event": "structlog"},
        {"severity": "CRITICAL"},
        {"level": "FATAL"},
    ],
)
def test_level_compares_by_severity_across_formats(line: dict[str, Any]) -> None:
    """level >= warning and level == error read the normalised level, whatever the source wrote."""
    raw_level = line.get("level", line.get("levelname", line.get("severity")))
    record = Record(seq=0, ts=0.0, level=parse_level(raw_level) or Level.INFO, event="e")
    s = StaticSubject(record, line, b"")
    assert compile_filter("level >= warning").matches(s)
    assert compile_filter("level > 20").matches(s)
    assert not compile_filter("level < warn").matches(s)
    assert compile_filter('level == "error"').matches(s) is (record.level is Level.ERROR)
    assert compile_filter("level in [error, critical]").matches(s)
    assert compile_filter('level =~ "^(error|critical)$"').matches(s)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amount_usdc > 50", True),
        ("amount_usdc == 75.5", True),
        ('amount_usdc == "75.5"', False),
        ("dry_run == false", True),
        ("dry_run == 0", False),
        ("duration_ms == 2500.0", True),
        ("outcome > 1", False),
        ('amount_usdc > "a"', False),
        ("outcome == 1", False),
        ("outcome != 1", True),
        ("providers == 1", False),
    ],
)
def test_mismatched_types_compare_false_not_error(text: str, expected: bool) -> None:
    """Comparing values of different JSON types is simply false (and != is its negation)."""
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nope == 1", False),
        ("nope > 1", False),
        ('nope =~ "x"', False),
        ('nope contains "x"', False),
        ("nope in [1, 2]", False),
        ("nope != 1", True),
        ('nope !~ "x"', True),
        ("not exists(nope)", True),
        ("nope == null", True),
        ("note == null", True),
        ("exists(note)", True),
        ("note != null", False),
        ("nope in [1, null]", True),
        (".nope", False),
        (".note", False),
        (".dry_run", False),
        (".outcome", True),
        ("exists(error)", False),
        ("error.type == X", False),
        ("error.type != X", True),
        ("exists(span_id)", False),
        ("exists(trace_id)", True),
    ],
)
def test_missing_fields_behave_like_null(text: str, expected: bool) -> None:
    """A missing field is false for every test except !=, !~, not exists and == null."""
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("duration_ms > 2s", True),
        ("duration_ms > 2.5s", False),
        ("duration_ms >= 2500ms", True),
        ("duration_ms < 0.05m", True),
        ("latency_s > 1s", True),
        ("latency_s < 1500ms", True),
        ("latency_s > 1.5s", False),
    ],
)
def test_durations_take_the_unit_of_the_field(text: str, expected: bool) -> None:
    """A duration against *_ms is in milliseconds; against any other field, in seconds."""
    assert matches(text) is expected


def test_duration_units_for_us_and_ns_fields() -> None:
    """*_us and *_ns fields compare in micro- and nanoseconds."""
    assert matches("elapsed_us == 1.5ms", {"elapsed_us": 1500})
    assert matches("elapsed_ns > 1us", {"elapsed_ns": 1001})
    assert matches("uptime > 1d", {"uptime": 86401})


def test_relative_times_follow_the_injected_clock_at_each_evaluation() -> None:
    """ts > -15m is measured from now() when the record is tested, so a record ages out."""
    clock = [1772593205.0 + 60]
    flt = compile_filter("ts > -15m", now=lambda: clock[0])
    s = subject(BET)
    assert flt.matches(s)
    clock[0] += 15 * 60
    assert not flt.matches(s)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ts >= "2026-03-04T03:00:00Z"', True),
        ('ts >= "2026-03-04T03:00:06Z"', False),
        ('ts == "2026-03-04T03:00:05Z"', True),
        ('ts < "2026-03-04T04:00:05+01:00"', False),
        ('ts >= "2026-03-04"', True),
        ("ts > 1772593204", True),
    ],
)
def test_absolute_times(text: str, expected: bool) -> None:
    """RFC 3339 times (UTC when no offset) and epoch numbers compare with the record time."""
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('."gen_ai.usage.input_tokens" == 12', True),
        ("gen_ai.usage.input_tokens == 12", True),
        ("gen_ai.usage.output_tokens == 7", True),
        ('gen_ai."usage".output_tokens == 7', True),
        ("http.status >= 500", True),
        ("http.headers.0.k == a", True),
        ("http.headers.1.k == a", False),
        ("http.status.code == 1", False),
    ],
)
def test_dotted_paths_try_the_literal_key_then_nesting(text: str, expected: bool) -> None:
    """A dotted path first reads a key holding the dots, then walks nested objects and lists."""
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('event contains "complete"', True),
        ('event startswith "bet."', True),
        ('event startswith "complete"', False),
        ('providers contains "newsapi"', True),
        ('providers contains "news"', False),
        ('event =~ "^bet\\.c"', True),
        ('event ~ "(?i)BET"', True),
        ('event !~ "^bet"', False),
        ("outcome in [win, loss]", True),
        ('outcome in ["win"]', False),
        ("amount_usdc in [75.5, 1]", True),
        ('msg == "bet.complete"', True),
        ('message contains "bet"', True),
    ],
)
def test_text_operators(text: str, expected: bool) -> None:
    """contains (substring or list element), startswith, regexes and in behave as documented."""
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("timeout", True),
        ("TIMEOUT", False),
        ("TimeoutError", True),
        ('"rate limit"', True),
        ('"Rate Limit"', False),
        ("503", True),
        ("élan", True),
        ("ÉLAN", False),
    ],
)
def test_full_text_search_is_smartcase(text: str, expected: bool) -> None:
    """A lone term searches the raw line, ignoring case unless the term has an uppercase letter."""
    line = "2026-03-04 WARN TimeoutError: rate limit hit, status 503 (Élan)".encode()
    assert compile_filter(text).matches(raw_subject(line)) is expected


def test_error_fields_come_from_the_normalised_record() -> None:
    """error.type reads Record.error, so pino err.type and structlog exceptions both work."""
    record = Record(seq=0, ts=0.0, level=Level.ERROR, event="x", error=ErrorInfo("TimeoutError", "slow"))
    s = StaticSubject(record, {"err": {"type": "TimeoutError"}}, b"")
    assert compile_filter('error.type == "TimeoutError"').matches(s)
    assert compile_filter('error.message contains "slo"').matches(s)
    assert compile_filter("exists(error)").matches(s)
    assert compile_filter("err.type == TimeoutError").matches(s)


class _Guarded:
    """A Subject that fails the test if the attributes or raw line are touched."""

    def __init__(self, record: Record) -> None:
        self.record = record

    @property
    def attrs(self) -> Mapping[str, Any]:
        raise AssertionError("attrs were parsed")

    @property
    def raw(self) -> bytes:
        raise AssertionError("raw line was read")


def test_cheap_record_tests_run_before_attribute_tests() -> None:
    """In an and-chain a failing record-field test short-circuits before attributes or raw are read."""
    info = _Guarded(Record(seq=0, ts=0.0, level=Level.INFO, event="x"))
    flt = compile_filter('outcome == "loss" and timeout and level >= error')
    assert not flt.matches(info)


def test_flags_describe_what_the_filter_reads() -> None:
    """needs_attrs, needs_raw and record_only let callers skip work."""
    only = compile_filter('level >= warning and trace_id == "t1" and error.type == X')
    assert (only.needs_attrs, only.needs_raw, only.record_only) == (False, False, True)
    attrs = compile_filter("amount_usdc > 5")
    assert (attrs.needs_attrs, attrs.needs_raw, attrs.record_only) == (True, False, False)
    raw = compile_filter("timeout or level == error")
    assert (raw.needs_attrs, raw.needs_raw, raw.record_only) == (False, True, False)


def test_trace_scope_exposes_its_inner_filter() -> None:
    """trace:(...) is marked trace_scoped and matches() tests the inner condition per record."""
    flt = compile_filter('trace:(error.type == "TimeoutError")')
    assert flt.trace_scoped
    assert flt.inner is not None
    assert not flt.inner.trace_scoped
    assert str(flt.inner.ast) == 'error.type == "TimeoutError"'
    plain = compile_filter("level >= error")
    assert not plain.trace_scoped
    assert plain.inner is None
    failing = Record(seq=0, ts=0.0, level=Level.ERROR, event="x", error=ErrorInfo("TimeoutError", ""))
    assert flt.matches(StaticSubject(failing))
    assert not flt.matches(StaticSubject(Record(seq=1, ts=0.0, level=Level.INFO, event="y")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('trace_id in ["t_7f3a2c9d", "t_x"]', True),
        ('span_id in ["s1"]', False),
        ('span_id != "s1"', True),
        ('op == "x"', False),
        ('op != "x"', True),
        ("op in [x, null]", True),
        ('event in ["bet.complete"]', True),
        ('event != "bet.complete"', False),
        ('error.message == "x"', False),
        ('error.message != "x"', True),
        ("level != info", False),
        ("level <= info", True),
        ('ts != "2026-03-04T03:00:05Z"', False),
        ('ts in ["2026-03-04T03:00:05Z", 5]', True),
        ("ts in [-1h, 5]", False),
    ],
)
def test_record_field_shortcuts_keep_missing_semantics(text: str, expected: bool) -> None:
    """The one-call closures for record fields agree with the general rules for absent values."""
    assert matches(text) is expected
