"""The prefilter stays sound against the real line parser on every format fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_tui.model.parsing.parse import LineParser, attrs_of
from agent_tui.model.query import StaticSubject, compile_filter
from agent_tui.model.query.checks import RECORD_FIELDS
from agent_tui.model.query.nodes import quote
from agent_tui.model.record import Record

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FILES = sorted(
    p
    for p in [*FIXTURES.glob("formats/*"), *FIXTURES.glob("corpus/*.jsonl")]
    if p.suffix in (".jsonl", ".json", ".log") and not p.name.endswith(".expected.json")
)


def _subjects(path: Path) -> Iterator[tuple[bytes, StaticSubject]]:
    """Each record with the bytes of the line(s) it came from (Docker partial lines are joined)."""
    parser = LineParser(now=lambda: 0.0)
    pending = b""
    for line in path.read_bytes().splitlines()[:300]:
        pending += line
        parsed_records = parser.parse(line)
        if not parsed_records:
            continue
        joined, pending = pending, b""
        for part, parsed in enumerate(parsed_records):
            record = Record(
                seq=0,
                ts=parsed.ts,
                level=parsed.level,
                event=parsed.event,
                trace_id=parsed.trace_id,
                span_id=parsed.span_id,
                parent_span_id=parsed.parent_span_id,
                op=parsed.op,
                error=parsed.error,
                raw=parsed.raw,
            )
            yield joined, StaticSubject(record, attrs_of(line, part), line)


def _candidate_filters(s: StaticSubject) -> Iterator[str]:
    record = s.record
    for name in ("event", "trace_id", "span_id", "parent_span_id", "op"):
        value = getattr(record, name)
        if isinstance(value, str) and value:
            yield f"{name} == {quote(value)}"
            yield f"{name} contains {quote(value[1:-1])}"
    if record.error is not None:
        yield f"error.type == {quote(record.error.type)}"
    attrs: dict[str, Any] = dict(s.attrs)
    for key, value in attrs.items():
        if (key,) in RECORD_FIELDS:
            continue
        field = f".{quote(key)}"
        if isinstance(value, str) and value:
            yield f"{field} == {quote(value)}"
            yield f"{field} startswith {quote(value[: len(value) // 2 + 1])}"
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    yield f"{field} contains {quote(item)}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_matching_lines_contain_every_required_substring(path: Path) -> None:
    """For filters built from each parsed record's own values, a match implies the needles are in the line."""
    checked = 0
    for line, s in _subjects(path):
        for text in _candidate_filters(s):
            flt = compile_filter(text)
            if flt.matches(s):
                checked += len(flt.required_substrings) + len(flt.id_substrings)
                missing = [n for n in flt.required_substrings if n not in line]
                assert not missing, (text, missing, line[:200])
                assert flt.may_match_line(line), (text, line[:200])
    assert checked > 0
