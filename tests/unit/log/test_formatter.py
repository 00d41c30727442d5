"""JsonFormatter: wire order, extras, errors, odd values, timestamps."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import re
import uuid

import orjson
import pytest

from agent_tui.log import JsonFormatter, format_ts
from agent_tui.schema import FIELD_ORDER

from .conftest import FileLog


def _one(file_log: FileLog) -> dict[str, object]:
    lines = file_log.lines()
    assert len(lines) == 1
    return orjson.loads(lines[0])  # type: ignore[no-any-return]


def test_fields_follow_wire_order_with_extras_after(file_log: FileLog) -> None:
    """Schema fields come first in FIELD_ORDER and extra= fields follow at the top level, in order."""
    file_log.logger.info("bet.placed", extra={"op": "x.y", "amount_usdc": 10.0, "outcome": "win"})
    obj = _one(file_log)
    keys = list(obj)
    schema_keys = [k for k in keys if k in FIELD_ORDER]
    assert schema_keys == [k for k in FIELD_ORDER if k in obj]
    assert keys[: len(schema_keys)] == schema_keys
    assert keys[len(schema_keys) :] == ["amount_usdc", "outcome"]
    assert obj["event"] == "bet.placed"
    assert obj["level"] == "info"
    assert obj["agent_id"] == "agent-1"
    assert obj["service"] == "svc"
    assert obj["op"] == "x.y"


def test_timestamp_is_rfc3339_millis_utc(file_log: FileLog) -> None:
    """ts is exactly YYYY-MM-DDTHH:MM:SS.mmmZ, truncated to the millisecond."""
    file_log.logger.info("x")
    ts = _one(file_log)["ts"]
    assert isinstance(ts, str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ts)
    assert format_ts(1772594504.3129) == "2026-03-04T03:21:44.312Z"
    assert format_ts(1772594504.9999) == "2026-03-04T03:21:44.999Z"


def test_odd_values_never_crash(file_log: FileLog) -> None:
    """Decimal stays an exact JSON number; datetime, bytes, sets, UUIDs and unknown objects serialise."""

    class Weird:
        def __str__(self) -> str:
            return "weird!"

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    extra = {
        "price": decimal.Decimal("0.1"),
        "big": decimal.Decimal("123456789012345678901234567890.000000001"),
        "nan": decimal.Decimal("NaN"),
        "when": dt.datetime(2026, 3, 4, 3, 21, 44, 312000, tzinfo=dt.UTC),
        "naive": dt.datetime(2026, 3, 4, 3, 21, 44),
        "raw": b"\x00\xff",
        "tags": {"a"},
        "uid": uuid.UUID(int=1),
        "obj": Weird(),
        "broken": Broken(),
        "huge": 2**80,
        "nested": {1: [Weird()]},
    }
    file_log.logger.info("odd", extra=extra)
    line = file_log.lines()[0]
    assert '"price":0.1,' in line
    assert '"big":123456789012345678901234567890.000000001,' in line
    assert '"huge":1208925819614629174706176' in line
    obj = orjson.loads(line)
    assert obj["nan"] == "NaN"
    assert obj["when"] == "2026-03-04T03:21:44.312000Z"
    assert obj["naive"] == "2026-03-04T03:21:44Z"
    assert obj["raw"] == "AP8="
    assert obj["tags"] == ["a"]
    assert obj["uid"] == "00000000-0000-0000-0000-000000000001"
    assert obj["obj"] == "weird!"
    assert obj["broken"] == "<unprintable Broken>"
    assert obj["nested"] == {"1": ["weird!"]}


def test_exception_with_chained_causes(file_log: FileLog) -> None:
    """error carries type, message, traceback lines and the __cause__/__context__ chain."""

    def inner() -> None:
        raise KeyError("missing")

    try:
        try:
            inner()
        except KeyError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError:
        try:
            raise ValueError("during handling")
        except ValueError:
            file_log.logger.exception("bet.failed")
    obj = _one(file_log)
    error = obj["error"]
    assert isinstance(error, dict)
    assert error["type"] == "ValueError"
    assert error["message"] == "during handling"
    assert error["traceback"][0].startswith("Traceback")
    assert error["cause"]["type"] == "RuntimeError"
    assert error["cause"]["cause"]["type"] == "KeyError"
    assert any("inner" in line for line in error["cause"]["cause"]["traceback"])
    assert obj["level"] == "error"


def test_stack_info_and_bad_format_args(file_log: FileLog) -> None:
    """stack_info is kept as lines and a message whose %-args do not match never raises."""
    file_log.logger.warning("value %d", "not-a-number", stack_info=True)
    obj = _one(file_log)
    assert "not-a-number" in str(obj["event"])
    assert isinstance(obj["stack"], list)
    assert obj["stack"][0].startswith("Stack")


def test_third_party_record_extras_detected() -> None:
    """A record made by a plain stdlib logger has its extras found by scanning against standard attrs."""
    record = logging.LogRecord("lib", logging.WARNING, "f.py", 1, "hello %s", ("you",), None)
    record.custom = 5
    obj = orjson.loads(JsonFormatter("a", "s").format_bytes(record))
    assert obj["event"] == "hello you"
    assert obj["custom"] == 5
    assert "lineno" not in obj


def test_reserved_extra_raises_like_stdlib(file_log: FileLog) -> None:
    """Overwriting a LogRecord attribute through extra= raises KeyError, as stdlib does."""
    with pytest.raises(KeyError):
        file_log.logger.info("x", extra={"msg": "nope"})


def test_custom_levels_are_lowercased(file_log: FileLog) -> None:
    """Levels outside the schema are written as their lowercased name; TRACE/NOTICE use schema names."""
    logging.addLevelName(25, "NOTICE")
    file_log.logger.log(25, "n")
    file_log.logger.log(35, "odd")
    levels = [orjson.loads(line)["level"] for line in file_log.lines()]
    assert levels == ["notice", "level 35"]
