"""Samples written by real libraries (tests/fixtures/formats, see generate/) map to the counts they logged."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agent_tui.model.parsing.parse import LineParser, Parsed, attrs_of

FORMATS = Path(__file__).resolve().parents[2] / "fixtures" / "formats"
SAMPLES = sorted(p.name.removesuffix(".expected.json") for p in FORMATS.glob("*.expected.json"))


def _parse(name: str) -> tuple[list[bytes], list[tuple[int, Parsed]]]:
    lines = (FORMATS / name).read_bytes().splitlines()
    return lines, LineParser(now=lambda: 0.0).parse_batch(lines)


def test_every_generated_sample_is_present() -> None:
    """Every library the brief names has a generated sample with its expected counts."""
    wanted = {
        "agent-tui.jsonl",
        "structlog.jsonl",
        "structlog-dict.jsonl",
        "python-json-logger.jsonl",
        "python-json-logger-renamed.jsonl",
        "loguru.jsonl",
        "otel-console.jsonl",
        "otlp.jsonl",
        "pino.jsonl",
        "bunyan.jsonl",
        "winston-npm.jsonl",
        "winston-syslog.jsonl",
        "docker-json-file.log",
        "journald.json",
    }
    assert wanted <= set(SAMPLES)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_counts(name: str) -> None:
    """Records, normalised levels, exceptions and their types, trace lines and events match the log calls."""
    expected: dict[str, Any] = json.loads((FORMATS / f"{name}.expected.json").read_text())
    lines, pairs = _parse(name)
    records = [p for _, p in pairs]
    assert len(records) == expected["records"]
    assert len(lines) == expected.get("lines", expected["records"])
    assert sum(r.raw for r in records) == expected.get("raw", 0)
    assert not any(r.ts_inferred for r in records)
    assert dict(Counter(r.level.label for r in records)) == expected["levels"]
    errors = [r.error for r in records if r.error is not None]
    assert len(errors) == expected["exceptions"]
    assert [e.type.rsplit(".", 1)[-1] for e in errors] == expected["error_types"]
    assert all(len(e.traceback) >= 2 for e in errors)
    assert sum(r.trace_id is not None for r in records) == expected["trace_lines"]
    assert len({r.trace_id for r in records if r.trace_id}) == expected["distinct_traces"]
    assert [r.event for r in records] == expected["events"]
    assert all(1.7e9 < r.ts < 2.0e9 for r in records)


@pytest.mark.parametrize("name", SAMPLES)
def test_attrs_of_every_record(name: str) -> None:
    """attrs_of gives a non-empty mapping for every record of every sample (each part of an OTLP line too)."""
    lines, pairs = _parse(name)
    parts: Counter[int] = Counter()
    for index, _ in pairs:
        attrs = attrs_of(lines[index], parts[index])
        parts[index] += 1
        assert attrs, (name, index)


def test_python_chained_causes_survive() -> None:
    """Python libraries that write the whole traceback keep the KeyError cause under the ValueError."""
    for name in ("structlog.jsonl", "structlog-dict.jsonl", "python-json-logger.jsonl", "otel-console.jsonl"):
        _, pairs = _parse(name)
        errors = [p.error for _, p in pairs if p.error is not None]
        assert errors
        for error in errors:
            assert error.cause is not None, name
            assert error.cause.type == "KeyError"


def test_otel_records_carry_real_span_ids() -> None:
    """OTel console and OTLP records inside spans carry 32-hex trace and 16-hex span ids; outside, none."""
    for name in ("otel-console.jsonl", "otlp.jsonl"):
        _, pairs = _parse(name)
        for _, rec in pairs:
            if rec.trace_id is None:
                assert rec.span_id is None
            else:
                assert len(rec.trace_id) == 32
                assert rec.span_id is not None
                assert len(rec.span_id) == 16
                int(rec.trace_id + rec.span_id, 16)


def test_loguru_attrs_merge_extra() -> None:
    """loguru's record.extra fields are top-level attributes next to level, message and logger."""
    lines = (FORMATS / "loguru.jsonl").read_bytes().splitlines()
    with_trace = [attrs_of(line) for line in lines if b'"trace_id"' in line]
    assert with_trace
    assert all("trace_id" in a and "task" in a and a["logger"] for a in with_trace)


def test_docker_partial_lines_join_across_batches() -> None:
    """Docker partial entries held across batches join into one record at the entry that ends the line."""
    lines = (FORMATS / "docker-json-file.log").read_bytes().splitlines()
    parser = LineParser(now=lambda: 0.0)
    got = [parser.parse(line) for line in lines]
    sizes = [len(g) for g in got]
    assert sizes.count(0) == 2
    start = sizes.index(0)
    assert sizes[start : start + 3] == [0, 0, 1]
    big = got[start + 2][0]
    assert (big.event, big.level.label, big.raw) == ("llm.prompt", "debug", False)


def test_otlp_hex_ids_as_the_spec_writes_them() -> None:
    """OTLP/JSON lines with hex ids (the collector's file exporter) and integer severities map too."""
    line = (
        b'{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},'
        b'"scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"timeUnixNano":"1772594504312000000",'
        b'"severityNumber":17,"body":{"kvlistValue":{"values":[{"key":"k","value":{"intValue":"3"}}]}},'
        b'"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174"},'
        b'{"observedTimeUnixNano":"1772594504312000000","severityText":"WARN","body":{"stringValue":"w"}}]}]}]}'
    )
    first, second = LineParser(now=lambda: 0.0).parse(line)
    assert (first.level.label, first.event, first.trace_id) == (
        "error",
        '{"k":3}',
        "5b8efff798038103d269b633813fc60c",
    )
    assert first.span_id == "eee19b7ec3c1b174"
    assert (second.level.label, second.event, second.trace_id, second.ts) == ("warning", "w", None, first.ts)
    assert attrs_of(line, 1)["otel.scope.name"] == "s"
    assert attrs_of(line, 5) == {}
