"""The planned fast path, the generic alias search and the row/column forms all give the same records."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.model.clock import FrozenClock
from agent_tui.model.parsing.parse import ROW_FIELDS, LineParser, Parsed, attrs_of
from agent_tui.model.session import LogModel
from agent_tui.schema import Level
from tests.unit.model.spellings import respelled

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FILES = sorted(
    [p for p in (FIXTURES / "corpus").glob("*.jsonl")]
    + [
        p
        for p in (FIXTURES / "formats").iterdir()
        if p.suffix in (".jsonl", ".log", ".json") and "expected" not in p.name
    ]
)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_planned_path_equals_alias_search(path: Path) -> None:
    """A line parsed twice by one parser (alias search first, then its key set's plan) maps equally."""
    for line in _lines(path):
        parser = LineParser(now=lambda: 5.0)
        first = parser.parse(line)
        second = parser.parse(line)
        assert first == second, line[:200]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_rows_columns_and_batch_agree(path: Path) -> None:
    """parse_rows tuples, parse_columns lists and parse_batch objects carry the same records."""
    lines = _lines(path)
    batch = LineParser(now=lambda: 5.0).parse_batch(lines)
    rows = LineParser(now=lambda: 5.0).parse_rows(lines)
    columns = LineParser(now=lambda: 5.0).parse_columns(lines)
    assert len(columns) == len(rows) == len(batch)
    assert columns.rows() == rows
    for (index, parsed), row in zip(batch, rows, strict=True):
        assert row[0] == index
        assert parsed == Parsed(*row[1:])
    assert [getattr(columns, name) for name in ROW_FIELDS] == [list(col) for col in zip(*rows, strict=True)]


def test_plans_follow_each_key_set() -> None:
    """Lines of different formats interleaved in one source each keep their own aliases."""
    parser = LineParser(now=lambda: 0.0)
    lines = [
        b'{"ts":"2026-03-04T03:21:44.312Z","level":"error","event":"a","trace_id":"t1"}',
        b'{"time":1772594504312,"level":50,"msg":"b","traceId":"t2"}',
        b'{"asctime":"2026-03-04 03:21:44,312","levelname":"WARNING","message":"c","request_id":"t3"}',
    ] * 3
    records = [p for _, p in parser.parse_batch(lines)]
    assert [(r.level.label, r.event, r.trace_id) for r in records[:3]] == [
        ("error", "a", "t1"),
        ("error", "b", "t2"),
        ("warning", "c", "t3"),
    ]
    assert records[3:6] == records[:3] == records[6:]


def test_ambiguous_key_sets_use_the_alias_order() -> None:
    """With two aliases of one role present, the alias order decides on every line, not the first key."""
    parser = LineParser(now=lambda: 0.0)
    both = b'{"event":"from event","msg":"from msg","level":"info"}'
    only_msg_null_event = b'{"event":null,"msg":"from msg","level":"info"}'
    assert [p.event for p in parser.parse(both) + parser.parse(both)] == ["from event", "from event"]
    assert parser.parse(only_msg_null_event)[0].event == "from msg"


def test_bad_times_on_the_fast_path_fall_back() -> None:
    """A planned key set whose time value is odd (not RFC 3339 Z, garbage, inf-like) is still read right."""
    parser = LineParser(now=lambda: 0.0)
    good = b'{"ts":"2026-03-04T03:21:44.312Z","level":"info","event":"x"}'
    parser.parse(good)
    odd = [
        b'{"ts":"2026-03-04T03:21:44.312+02:00","level":"info","event":"x"}',
        b'{"ts":"2026-03-04T03:21:44.5e3Z","level":"info","event":"x"}',
        b'{"ts":"2026-03-04T03:21:44.infZ","level":"info","event":"x"}',
        b'{"ts":"2026-03-04T03:21:44.312","level":"info","event":"x"}',
        b'{"ts":"2026-03-04T03:21:44Z","level":"info","event":"x"}',
    ]
    got = [parser.parse(line)[0] for line in odd]
    base = parser.parse(good)[0].ts
    assert got[0].ts == pytest.approx(base - 7200)
    assert got[1].ts_inferred
    assert got[2].ts_inferred
    assert got[3].ts == pytest.approx(base)
    assert got[4].ts == pytest.approx(base - 0.312)


def test_blank_lines_before_a_multi_record_line_keep_every_record_on_its_own_line(tmp_path: Path) -> None:
    """Four blank lines then one OTLP line of five records: as many records as lines, and the last index
    is the last line, yet the batch is not one record per line. Each record must point at the OTLP line
    (the check used to look only at the count and the last index, and gave the records the blank lines)."""
    otlp = (FIXTURES / "formats" / "otlp.jsonl").read_bytes().splitlines()[0]
    path = tmp_path / "blank-then-otlp.jsonl"
    path.write_bytes(b"\n\n\n\n" + otlp + b"\n")
    with LogModel(clock=FrozenClock(0.0)) as model:
        model.load_file(str(path))
        assert len(model.store) == 5
        assert [model.store.raw(seq) for seq in range(5)] == [otlp] * 5
        expected = [attrs_of(otlp, part) for part in range(5)]
        assert [dict(model.store.attrs(seq)) for seq in range(5)] == expected


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_fresh_parser_maps_a_line_as_a_new_parser_would(path: Path) -> None:
    """``fresh()`` of a parser that has read the whole file (its times, keys and plans learned) maps each
    line as a brand-new parser does, while sharing the plans it learned."""
    seasoned = LineParser(now=lambda: 5.0)
    lines = _lines(path)
    seasoned.parse_batch(lines)
    for line in lines:
        fresh = seasoned.fresh()
        assert fresh._plans is seasoned._plans
        assert fresh.parse(line) == LineParser(now=lambda: 5.0).parse(line), line[:200]


@pytest.mark.parametrize(
    "path", [*FILES, FIXTURES / "hostile.jsonl"], ids=[*(p.name for p in FILES), "hostile"]
)
def test_parse_each_maps_each_line_as_a_new_parser_would(path: Path) -> None:
    """``parse_each`` (runs through the compiled scan, a fresh parser for the rest) maps every line as a
    brand-new parser maps it alone, in compact and spaced spellings too, and whatever came before."""
    for _, lines in [("as written", _lines(path)), *respelled(_lines(path))]:
        seasoned = LineParser(now=lambda: 5.0)
        seasoned.parse_batch(lines[: len(lines) // 2])
        expected = [LineParser(now=lambda: 5.0).parse(line) for line in lines]
        assert seasoned.parse_each(lines) == expected
        assert seasoned.parse_each(lines[::-1]) == expected[::-1]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_records_in_one_call_equal_records_one_by_one(path: Path) -> None:
    """``Store.records`` (lines read in blocks, re-parsed in batches) gives each record as ``record``."""
    with LogModel(clock=FrozenClock(0.0)) as model:
        model.load_file(str(path))
        seqs = list(range(model.store.first_seq, model.store.end_seq))
        one_by_one = [model.store.record(seq) for seq in seqs]
        assert len(one_by_one) > 3
        assert model.store.records(seqs) == one_by_one
        assert model.store.records(seqs[::-2]) == one_by_one[::-2]
        assert model.store.records(seqs, spans=False) == [model.store.record(s, spans=False) for s in seqs]


def test_a_bool_level_is_no_level_whatever_numbers_came_before() -> None:
    """``false``/``true`` name no level (INFO), even after ``0``/``1`` (which dicts take for equal keys)."""
    parser = LineParser(now=lambda: 5.0)
    lines = [
        b'{"level":0,"msg":"a"}',
        b'{"level":false,"msg":"a"}',
        b'{"level":1,"msg":"a"}',
        b'{"level":true,"msg":"a"}',
    ]
    levels = [parsed.level for _, parsed in parser.parse_batch(lines * 2)]
    fresh = [LineParser(now=lambda: 5.0).parse(line)[0].level for line in lines * 2]
    assert levels == fresh == [Level.CRITICAL, Level.INFO, Level.TRACE, Level.INFO] * 2
