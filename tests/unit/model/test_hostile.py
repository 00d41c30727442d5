"""Hostile input (tests/fixtures/hostile.jsonl) never crashes the parser and never loses a line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from agent_tui.model.parsing.parse import LineParser, Parsed, attrs_of, decode_line

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LINES = (FIXTURES / "hostile.jsonl").read_bytes().split(b"\n")
EXPECTED: list[dict[str, Any]] = json.loads((FIXTURES / "hostile.expected.json").read_text())


@pytest.fixture(scope="module")
def parsed() -> list[tuple[int, Parsed]]:
    return LineParser(now=lambda: 1.0e9).parse_batch(LINES)


def test_fixture_matches_its_description() -> None:
    """The fixture has one line per described case, and its last line is truncated (no final newline)."""
    assert len(LINES) == len(EXPECTED)
    assert not (FIXTURES / "hostile.jsonl").read_bytes().endswith(b"\n")


def test_every_line_yields_exactly_one_record(parsed: list[tuple[int, Parsed]]) -> None:
    """Each non-blank hostile line gives one record at its own index, a blank one none: nothing else dropped,
    nothing doubled."""
    assert [index for index, _ in parsed] == [i for i, want in enumerate(EXPECTED) if want["records"]]
    assert [e["name"] for e in EXPECTED if not e["records"]] == ["empty line", "whitespace line"]


@pytest.mark.parametrize("case", range(len(EXPECTED)), ids=[e["name"] for e in EXPECTED])
def test_each_case(parsed: list[tuple[int, Parsed]], case: int) -> None:
    """Each case is raw or mapped as expected, with its level, and its event text is valid, encodable str."""
    want = EXPECTED[case]
    found = [rec for index, rec in parsed if index == case]
    assert len(found) == want["records"]
    if not found:
        return
    rec = found[0]
    assert rec.raw is want["raw"]
    assert rec.level.label == want["level"]
    assert want["event"] in rec.event
    rec.event.encode("utf-8")
    assert rec.ts > 0
    assert rec.ts < 253402300800


def test_attrs_of_never_raises() -> None:
    """attrs_of returns a mapping for every hostile line ({} for raw ones), with encodable strings."""
    for line, want in zip(LINES, EXPECTED, strict=True):
        attrs = attrs_of(line)
        assert isinstance(attrs, dict)
        assert (attrs == {}) is want["raw"] or want["name"] == "empty line"
        json.dumps(attrs, ensure_ascii=False, default=str).encode("utf-8")


def test_bad_lines_do_not_disturb_neighbours() -> None:
    """Good lines between hostile ones keep their own time and level, and raw lines inherit the last time."""
    good = b'{"ts":"2026-03-04T03:21:44.312Z","level":"warning","event":"good"}'
    batch = [good, *LINES[:-1], good, LINES[-1]]
    records = [p for _, p in LineParser(now=lambda: 0.0).parse_batch(batch)]
    assert len(records) == len(batch) - sum(1 for want in EXPECTED if not want["records"])
    assert records[0].event == records[-2].event == "good"
    assert records[-2].level.label == "warning"
    assert not records[-2].ts_inferred
    inferred = [r for r in records if r.ts_inferred]
    assert inferred
    assert all(r.ts == pytest.approx(records[0].ts, abs=5.0) for r in inferred)


def test_hostile_lines_are_fast() -> None:
    """Parsing the hostile file (two 2 MiB lines, 100 000-deep nesting) takes no pathological time."""
    started = time.perf_counter()
    LineParser().parse_batch(LINES)
    assert time.perf_counter() - started < 5.0


def test_decode_line_limits() -> None:
    """decode_line raises ValueError (never RecursionError) for too-deep nesting and for non-JSON."""
    with pytest.raises(ValueError, match="deep"):
        decode_line(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError):
        decode_line(b"{not json")
    assert decode_line(b'\xef\xbb\xbf{"a": NaN}')["a"] != 0
