"""The three real recordings in tests/fixtures/corpus give exactly the counts in their expected.json."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent_tui.model.parsing.parse import LineParser, Parsed, attrs_of
from agent_tui.schema import Level

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
LEVEL_KEY = {"structlog.jsonl": "level", "pino.jsonl": "level", "python-json-logger.jsonl": "levelname"}
MESSAGE_KEY = {"structlog.jsonl": "event", "pino.jsonl": "msg", "python-json-logger.jsonl": "message"}


def _epoch(raw: object) -> float:
    """Independent reading of the expected first/last times (not via agent_tui.model.parsing.timeparse)."""
    if isinstance(raw, int):
        return raw / 1000
    text = str(raw)
    if text.endswith("Z"):
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC).timestamp()


def _load(name: str) -> tuple[list[bytes], list[Parsed]]:
    lines = (CORPUS / name).read_bytes().splitlines()
    pairs = LineParser(now=lambda: 0.0).parse_batch(lines)
    assert [index for index, _ in pairs] == list(range(len(lines)))
    return lines, [parsed for _, parsed in pairs]


@pytest.fixture(params=sorted(EXPECTED), scope="module")
def corpus(request: pytest.FixtureRequest) -> tuple[str, list[bytes], list[Parsed], dict[str, Any]]:
    name: str = request.param
    lines, records = _load(name)
    return name, lines, records, EXPECTED[name]


Corpus = tuple[str, list[bytes], list[Parsed], dict[str, Any]]


def test_one_record_per_line_none_raw(corpus: Corpus) -> None:
    """Every line of a real recording maps to exactly one non-raw record with its own time."""
    _, lines, records, expected = corpus
    assert len(records) == len(lines) == expected["lines"]
    assert not any(r.raw for r in records)
    assert not any(r.ts_inferred for r in records)


def test_level_counts(corpus: Corpus) -> None:
    """Normalised level counts match expected.json, and the raw level values read back through attrs_of."""
    name, lines, records, expected = corpus
    got = Counter(r.level.label for r in records)
    assert dict(got) == expected["level_norm"]
    raw = Counter(str(attrs_of(line)[LEVEL_KEY[name]]) for line in lines)
    assert dict(raw) == expected["level_raw"]
    assert sum(r.level >= Level.ERROR for r in records) == expected["error_lines"]
    assert sum(r.level == Level.CRITICAL for r in records) == expected["critical_lines"]
    assert sum(r.level == Level.WARNING for r in records) == expected["warning_lines"]


def test_exceptions(corpus: Corpus) -> None:
    """Records carrying an exception are the expected ones, in order, each with a type and traceback."""
    name, lines, records, expected = corpus
    with_error = [(line, r) for line, r in zip(lines, records, strict=True) if r.error is not None]
    assert len(with_error) == expected["exception_lines"]
    messages = [str(attrs_of(line)[MESSAGE_KEY[name]]) for line, _ in with_error]
    assert messages == expected["exception_messages"]
    assert [r.event for _, r in with_error] == expected["exception_messages"]
    for _, r in with_error:
        assert r.error is not None
        assert r.error.type and r.error.type != "Error"
        assert len(r.error.traceback) >= 2
    criticals = [r.event for r in records if r.level == Level.CRITICAL]
    assert criticals == expected["critical_messages"]


def test_traces_and_spans(corpus: Corpus) -> None:
    """Trace lines, distinct trace and span ids and lines per trace match expected.json."""
    _, _, records, expected = corpus
    assert sum(r.trace_id is not None for r in records) == expected["trace_lines"]
    assert len({r.trace_id for r in records if r.trace_id}) == expected["distinct_trace_ids"]
    assert len({r.span_id for r in records if r.span_id}) == expected["distinct_span_ids"]
    per_trace = Counter(r.trace_id for r in records if r.trace_id)
    assert dict(per_trace) == expected["lines_per_trace_id"]
    assert all(r.parent_span_id is None or r.span_id is not None for r in records)


def test_first_and_last_time(corpus: Corpus) -> None:
    """First and last record times equal the expected ones (µs precision for structlog, ms for the others)."""
    _, _, records, expected = corpus
    assert records[0].ts == pytest.approx(_epoch(expected["first_ts"]), abs=1e-6)
    assert records[-1].ts == pytest.approx(_epoch(expected["last_ts"]), abs=1e-6)
    assert min(r.ts for r in records) == pytest.approx(records[0].ts, abs=1e-6)


def test_span_names_found(corpus: Corpus) -> None:
    """Span names come from span_name (structlog) and span (pino); a logger `name` is not one."""
    name, _, records, _ = corpus
    ops = {r.op for r in records}
    if name == "python-json-logger.jsonl":
        assert ops == {None}
    else:
        assert "agent.task" in ops
        assert "wager-agent" not in ops


def test_parse_matches_parse_batch(corpus: Corpus) -> None:
    """Line-at-a-time parse() gives the same records as the batch path."""
    _, lines, records, _ = corpus
    parser = LineParser(now=lambda: 0.0)
    single = [p for line in lines for p in parser.parse(line)]
    assert single == records
