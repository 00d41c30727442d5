"""Alias rules of DESIGN §5: time, level, message, ids, span names, errors, overrides and inferred times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from agent_tui.model.parsing.parse import LineParser, Parsed, attrs_of
from agent_tui.model.parsing.timeparse import epoch_from_number, parse_time, parse_time_str
from agent_tui.schema import Level

T0 = datetime(2026, 3, 4, 3, 21, 44, 312000, tzinfo=UTC).timestamp()


def one(obj: Any, parser: LineParser | None = None) -> Parsed:
    parser = parser or LineParser(now=lambda: 0.0)
    line = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    records = parser.parse(line)
    assert len(records) == 1
    return records[0]


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-04T03:21:44.312Z",
        "2026-03-04T03:21:44.312",
        "2026-03-04 03:21:44,312",
        "2026-03-04T03:21:44.312000+00:00",
        "2026-03-04T05:21:44.312+02:00",
        "2026-03-04T00:21:44.312-0300",
        "2026-03-04T03:21:44.312 UTC",
        "1772594504.312",
        "1772594504312",
    ],
)
def test_time_strings(text: str) -> None:
    """ISO strings with and without zone, `,` or `.` before the fraction, and epoch digit strings agree."""
    assert parse_time_str(text) == pytest.approx(T0, abs=1e-6)


@pytest.mark.parametrize("value", [1772594504.312, 1772594504312, 1772594504312000, 1772594504312000000])
def test_epoch_numbers_by_magnitude(value: float) -> None:
    """Epoch seconds, milliseconds, microseconds and nanoseconds are told apart by magnitude."""
    assert epoch_from_number(value) == pytest.approx(T0, abs=1e-3)


@pytest.mark.parametrize(
    "value", [0, -5, float("nan"), float("inf"), "yesterday", "2026-13-45T99:00:00Z", True, None]
)
def test_unusable_times(value: object) -> None:
    """Zero, negative, NaN, infinite, impossible dates and non-times are not usable times."""
    assert parse_time(value) is None


@pytest.mark.parametrize("key", ["ts", "timestamp", "time", "@timestamp", "asctime", "t"])
def test_time_aliases(key: str) -> None:
    """Every time alias is read."""
    assert one({key: "2026-03-04T03:21:44.312Z", "msg": "x"}).ts == pytest.approx(T0)


def test_journald_realtime_alias() -> None:
    """__REALTIME_TIMESTAMP (µs digit string) is a time."""
    assert one({"__REALTIME_TIMESTAMP": "1772594504312000", "x": 1}).ts == pytest.approx(T0)


def test_missing_time_takes_previous_and_is_marked() -> None:
    """A line without a usable time gets the previous record's time and ts_inferred."""
    parser = LineParser(now=lambda: 42.0)
    first = one({"msg": "no time yet"}, parser)
    assert (first.ts, first.ts_inferred) == (42.0, True)
    timed = one({"ts": "2026-03-04T03:21:44.312Z", "msg": "a"}, parser)
    assert not timed.ts_inferred
    later = one({"ts": "garbage", "msg": "b"}, parser)
    assert later.ts == pytest.approx(T0)
    assert later.ts_inferred


@pytest.mark.parametrize(
    ("obj", "level"),
    [
        ({"level": "WARN"}, Level.WARNING),
        ({"level": "warning"}, Level.WARNING),
        ({"level": "crit"}, Level.CRITICAL),
        ({"level": "FATAL"}, Level.CRITICAL),
        ({"level": "emerg"}, Level.CRITICAL),
        ({"level": "alert"}, Level.CRITICAL),
        ({"level": "SUCCESS"}, Level.NOTICE),
        ({"level": "silly"}, Level.TRACE),
        ({"level": "http"}, Level.INFO),
        ({"level": "verbose"}, Level.DEBUG),
        ({"level": "\x1b[31merror\x1b[39m"}, Level.ERROR),
        ({"level": 10}, Level.TRACE),
        ({"level": 50}, Level.ERROR),
        ({"level": 60}, Level.CRITICAL),
        ({"levelname": "CRITICAL"}, Level.CRITICAL),
        ({"severity": "ERROR"}, Level.ERROR),
        ({"severity_text": "WARN"}, Level.WARNING),
        ({"severityText": "DEBUG"}, Level.DEBUG),
        ({"severity_text": "", "severity_number": 17}, Level.ERROR),
        ({"severityNumber": 21}, Level.CRITICAL),
        ({"severity_number": 9}, Level.INFO),
        ({"lvl": "info"}, Level.INFO),
        ({"loglevel": "debug"}, Level.DEBUG),
        ({"PRIORITY": "3"}, Level.ERROR),
        ({"PRIORITY": "4"}, Level.WARNING),
        ({"PRIORITY": "5"}, Level.NOTICE),
        ({"PRIORITY": "0"}, Level.CRITICAL),
        ({"PRIORITY": 7}, Level.DEBUG),
        ({"level": "banana"}, Level.INFO),
        ({}, Level.INFO),
    ],
)
def test_levels(obj: dict[str, Any], level: Level) -> None:
    """Level names in any spelling and pino, OTel and syslog numbers normalise; unknown levels are INFO."""
    assert one({"msg": "x", **obj}).level == level


def test_pino_levels_cached_per_key_do_not_leak_between_schemes() -> None:
    """A syslog PRIORITY 3 and a pino level 30 in the same source keep their own schemes."""
    parser = LineParser(now=lambda: 0.0)
    assert one({"level": 30}, parser).level == Level.INFO
    assert one({"PRIORITY": "3"}, parser).level == Level.ERROR
    assert one({"level": 50}, parser).level == Level.ERROR


@pytest.mark.parametrize("key", ["event", "msg", "message", "body", "MESSAGE", "log", "text"])
def test_message_aliases(key: str) -> None:
    """Every message alias is read."""
    assert one({key: "hello"}).event == "hello"


def test_message_precedence_and_non_string() -> None:
    """`event` wins over `msg`; a structured message is shown as compact JSON."""
    assert one({"msg": "b", "event": "a"}).event == "a"
    assert one({"body": {"k": [1, 2]}}).event == '{"k":[1,2]}'


@pytest.mark.parametrize(
    "key", ["trace_id", "traceId", "trace.id", "traceID", "req_id", "request_id", "correlation_id"]
)
def test_trace_aliases(key: str) -> None:
    """Every trace alias is read."""
    assert one({key: "abc123"}).trace_id == "abc123"


def test_ids_otel_prefix_and_zero() -> None:
    """OTel `0x` prefixes are stripped and all-zero ids mean none; nested ECS ids are read."""
    rec = one({"trace_id": "0x5b8aa5a2d2c872e8321cf37308d69df2", "span_id": "0x051581bf3cb55c13"})
    assert (rec.trace_id, rec.span_id) == ("5b8aa5a2d2c872e8321cf37308d69df2", "051581bf3cb55c13")
    zero = one({"trace_id": "0x" + "0" * 32, "span_id": "0" * 16})
    assert (zero.trace_id, zero.span_id) == (None, None)
    ecs = one({"trace": {"id": "t1"}, "span": {"id": "s1"}})
    assert (ecs.trace_id, ecs.span_id) == ("t1", "s1")


@pytest.mark.parametrize(
    ("obj", "span", "parent"),
    [
        ({"span_id": "s", "parent_span_id": "p"}, "s", "p"),
        ({"spanId": "s", "parentSpanId": "p"}, "s", "p"),
        ({"span_id": "s", "parent_id": "p"}, "s", "p"),
    ],
)
def test_span_aliases(obj: dict[str, Any], span: str, parent: str) -> None:
    """Span and parent aliases are read."""
    rec = one(obj)
    assert (rec.span_id, rec.parent_span_id) == (span, parent)


@pytest.mark.parametrize("key", ["op", "operation", "span_name", "span"])
def test_op_aliases(key: str) -> None:
    """Span name aliases are read."""
    assert one({key: "casino.place_bet"}).op == "casino.place_bet"


def test_name_is_op_only_on_span_lines() -> None:
    """`name` is the span name on exported span lines, never a logger name on ordinary lines."""
    assert one({"name": "wager-agent", "spanId": "s1", "msg": "x"}).op is None
    span = one({"name": "db.query", "start_time": "2026-03-04T03:21:44Z", "end_time": "2026-03-04T03:21:45Z"})
    assert span.op == "db.query"


def test_agent_tui_error_with_cause() -> None:
    """Our own error object (type, message, traceback list, cause) maps with its chain."""
    rec = one(
        {
            "ts": "2026-03-04T03:21:44.312Z",
            "level": "error",
            "event": "trace.failed",
            "error": {
                "type": "TimeoutError",
                "message": "bet timed out",
                "traceback": ["Traceback (most recent call last):", '  File "a.py", line 1', "TimeoutError"],
                "cause": {"type": "OSError", "message": "reset"},
            },
        }
    )
    assert rec.error is not None
    assert (rec.error.type, rec.error.message, len(rec.error.traceback)) == (
        "TimeoutError",
        "bet timed out",
        3,
    )
    assert rec.error.cause is not None
    assert rec.error.cause.type == "OSError"


PY_TB = (
    "Traceback (most recent call last):\n"
    '  File "a.py", line 3, in f\n'
    "    raise KeyError('x')\n"
    "KeyError: 'x'\n\n"
    "The above exception was the direct cause of the following exception:\n\n"
    "Traceback (most recent call last):\n"
    '  File "a.py", line 5, in g\n'
    "    raise ValueError('bad value') from e\n"
    "mod.ValueError: bad value"
)


@pytest.mark.parametrize("key", ["exception", "exc_info", "stack", "error"])
def test_python_traceback_strings(key: str) -> None:
    """A Python traceback string gives the last exception as the error and the earlier one as its cause."""
    rec = one({"msg": "x", key: PY_TB})
    assert rec.error is not None
    assert (rec.error.type, rec.error.message) == ("mod.ValueError", "bad value")
    assert rec.error.cause is not None
    assert (rec.error.cause.type, rec.error.cause.message) == ("KeyError", "'x'")
    assert rec.error.traceback[0] == "Traceback (most recent call last):"


def test_err_object_and_js_stack() -> None:
    """pino/bunyan `err` objects read type (or name), message and stack."""
    stack = "TypeError: x is undefined\n    at f (a.js:1:2)\n    at g (a.js:3:4)"
    rec = one({"msg": "boom", "err": {"name": "TypeError", "message": "x is undefined", "stack": stack}})
    assert rec.error is not None
    assert (rec.error.type, rec.error.message, len(rec.error.traceback)) == ("TypeError", "x is undefined", 3)
    bare = one({"message": "boom", "stack": stack})
    assert bare.error is not None
    assert bare.error.type == "TypeError"


def test_structlog_dict_tracebacks() -> None:
    """structlog dict_tracebacks (a list of stacks, raised exception first) become an error with a cause."""
    exception = [
        {
            "exc_type": "RuntimeError",
            "exc_value": "outer",
            "frames": [{"filename": "a.py", "lineno": 9, "name": "main", "line": "raise RuntimeError"}],
        },
        {"exc_type": "ZeroDivisionError", "exc_value": "division by zero", "frames": []},
    ]
    rec = one({"event": "x", "exception": exception})
    assert rec.error is not None
    assert (rec.error.type, rec.error.message) == ("RuntimeError", "outer")
    assert rec.error.traceback[0] == '  File "a.py", line 9, in main'
    assert rec.error.cause is not None
    assert rec.error.cause.type == "ZeroDivisionError"


@pytest.mark.parametrize(
    "obj",
    [
        {"error.type": "IOError", "error.message": "disk"},
        {"error_type": "IOError", "error_message": "disk"},
        {"exception.type": "IOError", "exception.message": "disk"},
        {"attributes": {"exception.type": "IOError", "exception.message": "disk"}, "severity_text": "ERROR"},
    ],
)
def test_flat_error_fields(obj: dict[str, Any]) -> None:
    """ECS-style, underscore and OTel `exception.*` flat fields (also in OTel attributes) give an error."""
    rec = one({"msg": "x", **obj})
    assert rec.error is not None
    assert (rec.error.type, rec.error.message) == ("IOError", "disk")


@pytest.mark.parametrize("value", [None, False, "", {}, [], True])
def test_empty_errors_are_none(value: object) -> None:
    """Null, false and empty error values do not make an error record."""
    assert one({"msg": "x", "error": value, "exc_info": value}).error is None


def test_plain_error_string_is_an_error() -> None:
    """A bare `error` string is kept as an error message."""
    rec = one({"msg": "x", "error": "connection reset"})
    assert rec.error is not None
    assert rec.error.message == "connection reset"


def test_overrides() -> None:
    """`--field level=severity` overrides win over the aliases, also for nested paths and syslog keys."""
    parser = LineParser(
        {"level": "sev", "event": "what", "trace_id": "ctx.tid", "time": "when"}, now=lambda: 0.0
    )
    rec = one(
        {"level": "info", "sev": "error", "msg": "m", "what": "w", "ctx": {"tid": "T"}, "when": 1.5}, parser
    )
    assert (rec.level, rec.event, rec.trace_id, rec.ts) == (Level.ERROR, "w", "T", 1.5)
    syslog = LineParser({"level": "PRIORITY"}, now=lambda: 0.0)
    assert one({"level": "info", "PRIORITY": "2"}, syslog).level == Level.CRITICAL
    with pytest.raises(ValueError, match="unknown field role"):
        LineParser({"colour": "x"})


def test_keep_attrs_and_attrs_of() -> None:
    """attrs is None by default, the decoded object with keep_attrs, and attrs_of gives the same mapping."""
    line = b'{"ts":"2026-03-04T03:21:44.312Z","level":"info","event":"bet","amount_usdc":10.5}'
    assert LineParser().parse(line)[0].attrs is None
    kept = LineParser(keep_attrs=True).parse(line)[0].attrs
    assert kept == attrs_of(line) == orjson.loads(line)


def test_raw_text_lines_sniff_time_and_level() -> None:
    """Plain text lines are raw records; a leading ISO time and an upper-case level word are used."""
    parser = LineParser(now=lambda: 7.0)
    rec = one(b"2026-03-04 03:21:44,312 ERROR payment failed\r", parser)
    assert rec.raw
    assert (rec.level, rec.ts, rec.ts_inferred) == (Level.ERROR, pytest.approx(T0), False)
    assert rec.event == "2026-03-04 03:21:44,312 ERROR payment failed"
    plain = one(b"just some words about an error", parser)
    assert (plain.level, plain.ts, plain.ts_inferred) == (Level.INFO, pytest.approx(T0), True)
    assert attrs_of(b"just text") == {}


def test_decode_line_keeps_integers_wider_than_64_bits_exact() -> None:
    """Wide integers stay ints (orjson alone rounds them); deep nesting, NaN and a BOM still decode."""
    from agent_tui.model.parsing.parse import attrs_of, decode_line

    wide = (
        b'{"wei":123456789012345678901234567890,"neg":-98765432109876543210987654321,'
        b'"xs":[18446744073709551616]}'
    )
    assert decode_line(wide) == {
        "wei": 123456789012345678901234567890,
        "neg": -98765432109876543210987654321,
        "xs": [18446744073709551616],
    }
    assert attrs_of(wide)["wei"] == 123456789012345678901234567890
    deep = b"[" * 1000 + b"]" * 1000
    assert isinstance(decode_line(deep), list)
    assert decode_line(b'\xef\xbb\xbf{"a": NaN}')["a"] != 0  # type: ignore[index]
