"""Projected decoding maps every line exactly as decoding the whole object does, on every JSON spelling."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from agent_tui.model.parsing.formats.columns import Row
from agent_tui.model.parsing.parse import LineParser, attrs_of
from agent_tui.model.parsing.projection import MISSES, KeyProjector, PartialAttrs, projection_for, widened
from agent_tui.model.traces.analysis.signals import SIGNAL_READS, retry_signal
from agent_tui.model.traces.sums import SUM_NESTED, SUM_READS, sum_values
from tests.unit.model.spellings import respelled

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FILES = sorted(
    [
        *(p for p in (FIXTURES / "formats").iterdir() if p.is_file() and not p.name.endswith(".json")),
        FIXTURES / "formats" / "journald.json",
        *(FIXTURES / "corpus").glob("*.jsonl"),
        FIXTURES / "hostile.jsonl",
    ]
)

TRICKY = [
    b'{"ts":"2026-03-04T03:21:44.312Z","level":"info","event":"a","trace_id":"t1","span_id":"s1"}',
    b'{"ts":"2026-03-04T03:21:44.312Z","level":"warn","level":"error","event":"dup last wins"}',
    b'{"ts":"2026-03-04T03:21:45Z","l\\u0065vel":"error","\\u0065vent":"escaped keys"}',
    b'{"ts":1772594504312,"level":30,"event":"number level, epoch ms"}',
    b'{"ts":1772594504.5,"level":50.0,"event":7,"trace_id":123,"span_id":0}',
    b'{"ts":"2026-03-04T03:21:46Z","level":true,"event":null,"trace_id":null,"op":5}',
    b'{"ts":"2026-03-04T03:21:47Z","level":"info","event":"wide","trace_id":123456789012345678901234567890}',
    b'{"ts":1772594504312000000000000,"level":"info","event":"wide time"}',
    b'{"ts":"2026-03-04T03:21:48Z","level":{"name":"ERROR"},"event":"nested level"}',
    b'{"ts":"2026-03-04T03:21:49Z","level":"info","event":"has error","error":"boom"}',
    b'{"ts":"2026-03-04T03:21:49Z","level":"info","event":"null error","error":null}',
    b'{"ts":"2026-03-04T03:21:50Z","level":"info","msg":"two messages","event":"e"}',
    b'{"ts":"2026-03-04T03:21:51Z","levelname":"ERROR","message":"switched aliases"}',
    b'{"ts":"2026-03-04T03:21:52Z","level":"info","event":"back","span_id":"00f067aa0ba902b7","op":"x"}',
    b'{"ts":"2026-03-04T03:21:53Z","level":"info","event":"nested ids","trace":{"id":"abc"}}',
    b'{"ts":"2026-03-04T03:21:54Z","level":"info","name":"span","start_time":1,"end_time":2}',
    b'{"level":"info","event":"no time"}',
    b'{"ts":"2026-03-04T03:21:55Z","level":"info","event":"bad utf8 elsewhere","x":"\xff"}',
    b'{"ts":"2026-03-04T03:21:56Z","level":"info","event":"lone \\ud800 surrogate"}',
    b'{"ts":"2026-03-04T03:21:57Z","level":"info","event":"big elsewhere","x":1e999}',
    b'{"ts":"2026-03-04T03:21:58Z","level":"info","event":"trailing"} x',
    b'{"ts":"2026-03-04T03:21:59Z","level":"info","event":"deep","x":' + b"[" * 600 + b"]" * 600 + b"}",
    b'{"ts":"2026-03-04T03:22:00Z","level":"info","event":"attributes","attributes":{"error.type":"E"}}',
    b'{"ts":"2026-03-04T03:22:01+02:00","level":"info","event":"offset","parent_span_id":"p","span_id":"s"}',
    b'{"ts":"2026-03-04T03:22:02Z","level":"info","event":"","trace_id":" padded ","span_id":"0abc"}',
    b"[1,2]",
    b"plain text ERROR line",
    b"",
]


def _spellings(lines: list[bytes]) -> Iterator[tuple[str, list[bytes]]]:
    """The lines as written, compact (``separators=(",", ":")``) and spaced (``json.dumps`` defaults)."""
    yield "as written", lines
    yield from respelled(lines)


def _rows(parser: LineParser, lines: list[bytes], batch: int) -> list[Row]:
    rows: list[Row] = []
    for start in range(0, len(lines), batch):
        rows.extend((start + r[0], *r[1:]) for r in parser.parse_rows(lines[start : start + batch]))
    return rows


CASES = [(f"{path.parent.name}/{path.name}", path.read_bytes().splitlines()) for path in FILES] + [
    ("tricky", TRICKY)
]


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("batch", [1, 7, 100_000])
def test_projected_rows_equal_full_decode_rows(name: str, lines: list[bytes], batch: int) -> None:
    """Every fixture line, in three spellings and batch sizes, maps to the same row either way."""
    for spelling, spelled in _spellings(lines):
        full = _rows(LineParser(now=lambda: 0.0, project=False), spelled, batch)
        projected = _rows(LineParser(now=lambda: 0.0), spelled, batch)
        assert len(projected) == len(full), (name, spelling)
        for a, b in zip(projected, full, strict=True):
            assert a == b, (name, spelling, spelled[a[0]][:200])


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real: Callable[[bytes], object] = orjson.loads

    def counting(data: bytes) -> object:
        calls[0] += 1
        return real(data)

    monkeypatch.setattr(orjson, "loads", counting)
    return calls


@pytest.mark.parametrize("name", ["structlog.jsonl", "pino.jsonl", "python-json-logger.jsonl"])
@pytest.mark.parametrize("spaced", [False, True])
def test_planned_lines_skip_the_whole_object_decode(
    monkeypatch: pytest.MonkeyPatch, name: str, spaced: bool
) -> None:
    """In a real recording only the first lines of each shape and the error lines are decoded whole."""
    lines = (FIXTURES / "corpus" / name).read_bytes().splitlines()
    if spaced:
        lines = [json.dumps(json.loads(line)).encode() for line in lines]
    errors = sum(b'"exc_info"' in line or b'"err"' in line or b'"exception"' in line for line in lines)
    calls = _count_loads(monkeypatch)
    LineParser(now=lambda: 0.0).parse_rows(lines)
    assert len(lines) > 300
    assert calls[0] <= errors + 10, (calls[0], errors)


def test_overrides_and_kept_attrs_decode_whole_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--field`` overrides and ``keep_attrs`` need the object, so the projection steps aside."""
    line = b'{"ts":"2026-03-04T03:21:44Z","level":"info","event":"a","who":"x"}'
    calls = _count_loads(monkeypatch)
    LineParser({"op": "who"}).parse_rows([line] * 10)
    assert calls[0] == 10
    parser = LineParser(keep_attrs=True)
    rows = parser.parse_rows([line] * 10)
    assert calls[0] == 20
    assert rows[-1][-1] == {"ts": "2026-03-04T03:21:44Z", "level": "info", "event": "a", "who": "x"}


def test_projection_refuses_lines_it_cannot_map_alone() -> None:
    """Another alias, an error key, a nested value or a >64-bit integer sends the line to the full path."""
    projection = projection_for(("ts", "level", "event", None, None, None, None))
    assert projection is not None
    ok = projection.decode(b'{"ts": "t", "level": "info", "event": "e", "other": {"deep": [1]}}')
    assert (ok.ts, ok.level, ok.event, ok.trace_id, ok.op) == ("t", "info", "e", None, None)
    for refused in (
        b'{"ts":"t","msg":"also a message"}',
        b'{"ts":"t","error":null}',
        b'{"ts":"t","attributes":{}}',
        b'{"ts":{"seconds":1}}',
        b'{"level":18446744073709551616}',
        b"[1]",
        b"not json",
    ):
        with pytest.raises(MISSES):
            projection.decode(refused)


def test_widening_adds_roles_and_restarts_on_another_alias() -> None:
    """A projection grows with the roles a source writes later, and starts over when it renames one."""
    base = projection_for(("ts", "level", "event", None, None, None, None))
    grown = widened(base, ("ts", "level", "event", "trace_id", "span_id", None, None))
    assert grown is not None
    assert grown.keys == ("ts", "level", "event", "trace_id", "span_id", None, None)
    other = widened(grown, ("asctime", "levelname", "message", None, None, None, None))
    assert other is not None
    assert other.keys == ("asctime", "levelname", "message", None, None, None, None)
    assert projection_for((None, None, None, None, None, None, None)) is None


def test_span_as_op_needs_both_ids() -> None:
    """``span`` is read as the op only beside a trace and a span id, as the plans do."""
    assert projection_for(("ts", "level", "event", None, None, None, "span")) is None
    projection = projection_for(("ts", "level", "event", "trace_id", "span_id", None, "span"))
    assert projection is not None
    assert projection.decode(b'{"trace_id":"t","span_id":null,"span":"op"}').op == "op"
    with pytest.raises(MISSES):
        projection.decode(b'{"trace_id":"t","span":"op"}')


def test_key_projector_reads_only_the_asked_keys() -> None:
    """``KeyProjector`` gives the asked keys' values in order, ``missing`` where absent, on any spelling."""
    projector = KeyProjector(["amount_usdc", "error", "nope"], missing=Ellipsis)
    for line in (
        b'{"amount_usdc":1.5,"error":{"type":"E"},"x":1}',
        b'{"amount_usdc": 1.5, "error": {"type": "E"}}',
    ):
        assert projector.values(line) == (1.5, {"type": "E"}, Ellipsis)


SIDE_LINES = [
    b'{"trace_id":"t","amount_usdc":12.5,"payout_usdc":0,"cost_usd":1e-3,"status":429,"agent_id":"a"}',
    b'{"trace_id":"t","usage":{"input_tokens":10,"output_tokens":5,"extra":{"x":[1]}},"model":"m"}',
    b'{"trace_id":"t","usage":[1,2],"gen_ai.usage.output_tokens":3,"gen_ai.usage.input_tokens":4}',
    b'{"trace_id":"t","usage":{"output_tokens":123456789012345678901234567890}}',
    b'{"trace_id":"t","amount_usdc":123456789012345678901234567890,"retries":null,"attempt":2.0}',
    b'{"trace_id":"t","amount_usdc":true,"tool":"","tool_name":"search","status":"503"}',
    b'{"trace_id":"t","cost_usd":{"v":1},"completion_tokens":7,"prompt_tokens":"9"}',
    b'{"trace_id":"t","amount_usdc":NaN}',
    b'{"trace_id":"t","attributes":{"amount_usdc":1},"severity_text":"INFO","amount_usdc":2}',
    b'{"log":"{\\"amount_usdc\\":3}\\n","stream":"stdout","time":"2026-03-04T03:21:44Z"}',
]


@pytest.mark.parametrize(
    ("name", "lines"), [*CASES, ("side", SIDE_LINES)], ids=[*(c[0] for c in CASES), "side"]
)
def test_partial_attrs_read_what_the_whole_mapping_holds(name: str, lines: list[bytes]) -> None:
    """Sums and signals see the same values through ``PartialAttrs`` as through ``attrs_of``."""
    wanted = sorted({*SUM_READS, *SIGNAL_READS})
    partial = PartialAttrs(wanted, SUM_NESTED, attrs_of)
    for _, spelled in _spellings(lines):
        assert partial.of_lines(spelled) == [partial(line) for line in spelled]
        for line in spelled:
            full, mine = attrs_of(line), partial(line)
            assert sum_values(mine) == sum_values(full), line
            assert retry_signal(mine, "e", 40, None, None) == retry_signal(full, "e", 40, None, None), line
            for key in [*wanted, *SUM_NESTED]:
                assert (key in mine, mine.get(key)) == (key in full, full.get(key)) or (
                    key in SUM_NESTED and _inner_equal(mine.get(key), full.get(key))
                ), (line, key)


def _inner_equal(mine: object, full: object) -> bool:
    """A nested object's read keys match (the partial copy holds only those)."""
    if not isinstance(mine, dict) or not isinstance(full, dict):
        return False
    return all(mine.get(k) == full.get(k) and (k in mine) == (k in full) for k in SUM_NESTED["usage"])


def test_partial_attrs_of_lines_keeps_each_line_in_its_place_around_misses() -> None:
    """Lines the projection misses (first, last, several in a row, not JSON) get the whole mapping in
    their own place, and the lines between them are still read."""
    partial = PartialAttrs(sorted({*SUM_READS, *SIGNAL_READS}), SUM_NESTED, attrs_of)
    hit, miss = SIDE_LINES[0], SIDE_LINES[-1]
    lines = [miss, hit, miss, miss, b"plain text", hit, b'{"amount_usdc":', miss]
    assert partial.of_lines(lines) == [partial(line) for line in lines]
    assert partial.of_lines(lines)[1] != partial.of_lines(lines)[0]
    assert partial.of_lines([]) == []
