"""The compiled scanner (``_rowscan``) maps a line to exactly the row the Python path gives, or leaves it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.model.livebatch import SIDE_KEYS, SideValues
from agent_tui.model.parsing import parse, projection
from agent_tui.model.parsing.columns import from_columns
from agent_tui.model.parsing.formats import mapping
from agent_tui.model.parsing.formats.columns import Row
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.traces.analysis.signals import SIGNAL_READS
from agent_tui.model.traces.sums import SUM_NESTED, SUM_READS
from tests.unit.model.test_projection import CASES, _rows, _spellings


@contextmanager
def _python_only() -> Iterator[None]:
    compiled = parse.scan_rows
    parse.scan_rows = None
    try:
        yield
    finally:
        parse.scan_rows = compiled


@contextmanager
def _counted(module: Any, name: str) -> Iterator[list[int]]:
    """Count the lines the compiled scan ``module.name`` reads itself while the block runs (its first
    two arguments are the lines and where to start; it returns where it stopped, alone or first)."""
    compiled = getattr(module, name)
    assert compiled is not None
    read = [0]

    def counting(lines: list[bytes], start: int, *rest: Any) -> Any:
        result = compiled(lines, start, *rest)
        read[0] += (result[0] if isinstance(result, tuple) else result) - start
        return result

    setattr(module, name, counting)
    try:
        yield read
    finally:
        setattr(module, name, compiled)


def _both(lines: list[bytes], batch: int) -> tuple[list[Row], list[Row]]:
    """Rows of ``lines`` by the Python path, then with the compiled scan (caches warm from the first)."""
    with _python_only():
        python = _rows(LineParser(now=lambda: 0.0), lines, batch)
    return python, _rows(LineParser(now=lambda: 0.0), lines, batch)


def test_the_scanner_is_built() -> None:
    """``make install`` compiled the scanner: the parser uses it (CI runs the suite with it)."""
    from agent_tui.model.parsing import _rowscan

    assert parse.scan_rows is _rowscan.scan_rows
    assert projection.scan_side is _rowscan.scan_side


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("batch", [1, 7, 100_000])
def test_scanned_rows_equal_python_rows(name: str, lines: list[bytes], batch: int) -> None:
    """Every fixture line, in three spellings and batch sizes, maps to the same row with or without it."""
    for spelling, spelled in _spellings(lines):
        python, scanned = _both(spelled, batch)
        assert len(scanned) == len(python), (name, spelling)
        for a, b in zip(scanned, python, strict=True):
            assert a == b, (name, spelling, spelled[a[0]][:200])


@pytest.mark.parametrize(
    "name", ["corpus/structlog.jsonl", "corpus/pino.jsonl", "corpus/python-json-logger.jsonl"]
)
@pytest.mark.parametrize("spelling", ["compact", "spaced"])
def test_the_scanner_maps_most_lines_of_real_recordings(name: str, spelling: str) -> None:
    """Once a shape's first lines taught the caches, the scan maps nearly every line itself."""
    lines = dict(_spellings(dict(CASES)[name]))[spelling]
    # The caches are the process's: a first pass teaches them, as earlier batches of a source would
    # (these recordings write about one line a second, each second new to a cold process).
    LineParser(now=lambda: 0.0).parse_rows(lines)
    with _counted(parse, "scan_rows") as mapped:
        rows = LineParser(now=lambda: 0.0).parse_rows(lines)
    assert mapped[0] >= 0.8 * len(rows), (mapped[0], len(rows))


_TIMES = [
    "2026-03-04T03:21:44.312Z",
    "2026-03-04T03:21:44Z",
    "2026-03-04T03:21:45.5",
    "2026-03-04 03:21:44,123",
    "2026-03-04T03:21:44.312+02:00",
    "2026-03-04T03:21:4",
    "2026-03-04T03:21:44.312\u00e9",
    1772594504312,
    1772594504,
    1772594504.5,
]
_IDS = [
    "0abc",
    "00",
    "000",
    "0x1f",
    "0X",
    " a",
    "a ",
    "abc",
    "",
    "\u00e90",
    "0\u00e9",
    "1",
    "0 ",
    "a\t",
    0,
    7,
]
_LEVELS = ["info", "ERROR", "warn", "critical", "fatal", "weird", 30, 50, 0, 1, 1.0, True, False]
_KEYS = [
    "ts", "time", "timestamp", "level", "levelname", "severity", "event", "msg", "message", "trace_id",
    "span_id", "parent_span_id", "op", "error", "agent_id", "x", "amount_usdc", "attributes", "lev\u00e9l",
]  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(_TIMES + _IDS + _LEVELS),
)
_VALUES = st.one_of(
    _SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), _SCALARS, max_size=2)
)
_ROLE_PAIRS = st.one_of(
    st.tuples(st.sampled_from(["ts", "time"]), st.sampled_from(_TIMES)),
    st.tuples(st.sampled_from(["trace_id", "span_id", "parent_span_id"]), st.sampled_from(_IDS)),
    st.tuples(st.sampled_from(["level", "severity"]), st.sampled_from(_LEVELS)),
    st.tuples(st.sampled_from(_KEYS), _VALUES),
)


_GOOD_IDS = ["4bf92f3577b34da6", "0af7651916cd43dd", "00f067aa0ba902b7", "1", None]
_SHAPED = st.tuples(
    st.tuples(st.just("ts"), st.sampled_from([*_TIMES[:3], "2026-03-04T03:21:46.001Z", None])),
    st.tuples(st.just("level"), st.sampled_from(["info", "error", "debug", "warning"])),
    st.tuples(
        st.just("event"), st.one_of(st.sampled_from(["run", "a\\b", 'q"', "\u00e9t\u00e9"]), st.text())
    ),
    st.tuples(st.just("trace_id"), st.sampled_from(_IDS) | st.sampled_from(_GOOD_IDS)),
    st.tuples(st.just("span_id"), st.sampled_from(_IDS) | st.sampled_from(_GOOD_IDS)),
    st.tuples(st.just("op"), _SCALARS | st.sampled_from(["agent.tick", "llm.call"])),
    st.tuples(st.sampled_from(["x", "agent_id", "status"]), _VALUES),
).map(list)
"""One writer's lines: the same keys each time, each value a tricky or an ordinary one."""


@st.composite
def _line(draw: st.DrawFn, shaped: bool = False, pairs: st.SearchStrategy[Any] = _ROLE_PAIRS) -> bytes:
    """A JSON object line as some writer might spell it (duplicate keys and all), sometimes damaged."""
    pairs = draw(_SHAPED if shaped else st.lists(pairs, max_size=8))
    ascii_only = draw(st.booleans())
    colon, comma = draw(st.sampled_from([(":", ","), (": ", ", "), (" : ", " , "), (":\t", ",\r\n")]))
    body = comma.join(
        json.dumps(k, ensure_ascii=ascii_only) + colon + json.dumps(v, ensure_ascii=ascii_only)
        for k, v in pairs
    )
    line = ("{" + body + "}").encode("utf-8", "surrogatepass")
    damage = draw(st.sampled_from(["none", "none", "none", "cut", "byte", "tail", "lead", "cr"]))
    where = draw(st.integers(0, max(0, len(line) - 1)))
    if damage == "cut":
        line = line[:where]
    elif damage == "byte":
        line = line[:where] + bytes([draw(st.integers(0, 255))]) + line[where + 1 :]
    elif damage == "tail":
        line += draw(st.sampled_from([b" ", b" x", b"}", b"\r"]))
    elif damage == "lead":
        line = draw(st.sampled_from([b" ", b"\t", b"\xef\xbb\xbf"])) + line
    elif damage == "cr":
        line += b"\r"
    return line


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.one_of(_line(), _line(shaped=True)), min_size=1, max_size=12),
    batch=st.sampled_from([1, 3, 100]),
)
def test_any_line_maps_the_same_with_the_scanner(lines: list[bytes], batch: int) -> None:
    """Random and damaged lines (escapes, surrogates, wide numbers, odd ids, times and levels) agree."""
    python, scanned = _both(lines, batch)
    assert scanned == python


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_line(shaped=True), min_size=1, max_size=12))
def test_one_writers_lines_map_the_same_with_the_scanner(lines: list[bytes]) -> None:
    """Lines of one shape with tricky values (the scan's own ground) agree too."""
    python, scanned = _both(lines, 100)
    assert scanned == python


_SIDE_PAIRS = st.tuples(
    st.sampled_from([*SUM_READS, *SIGNAL_READS, "usage", "x", "record", "attributes"]),
    st.one_of(_VALUES, st.dictionaries(st.sampled_from([*SUM_NESTED["usage"], "y"]), _VALUES, max_size=3)),
)


def _sides(lines: list[bytes]) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """The sums and signals ``SideValues`` ships for ``lines``: the Python path, then the compiled scan."""
    columns = LineParser(now=lambda: 0.0).parse_columns(lines)
    appended = from_columns(0, columns, lines)
    compiled = projection.scan_side
    projection.scan_side = None
    try:
        python = SideValues()(appended)
    finally:
        projection.scan_side = compiled
    scanned = SideValues()(appended)
    return (python.shipped_sums, python.shipped_signals), (scanned.shipped_sums, scanned.shipped_signals)


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
def test_scanned_sums_and_signals_equal_python_ones(name: str, lines: list[bytes]) -> None:
    """Every fixture, in three spellings: the compiled side scan ships the same sums and signals."""
    for spelling, spelled in _spellings(lines):
        python, scanned = _sides(spelled)
        assert scanned == python, (name, spelling)


_STATUSES = st.sampled_from(
    [429, 503, 200, "429", "0503", "503 ", "\u0664\u0662\u0669", "\u00b2", True, 429.0]
)
_SIGNAL_PAIRS = st.one_of(
    _SIDE_PAIRS,
    st.tuples(st.sampled_from(["status", "http_status", "status_code", "http.status_code"]), _STATUSES),
    st.tuples(st.sampled_from(["attempt", "retries", "retry_count"]), _SCALARS),
    st.tuples(
        st.sampled_from(["amount_usdc", "cost_usd", "output_tokens", "input_tokens", "completion_tokens"]),
        st.one_of(st.integers(-5, 5), st.floats(-1e3, 1e3), st.booleans(), st.just("7")),
    ),
    st.tuples(st.just("trace_id"), st.sampled_from(_GOOD_IDS)),
    st.tuples(
        st.just("event"), st.sampled_from(["tool.call", "retrying", "llm.completion", "rate_limited", "x"])
    ),
    st.tuples(st.just("level"), st.sampled_from(["warning", "info", "error"])),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_line(pairs=_SIGNAL_PAIRS), min_size=1, max_size=12))
def test_any_line_gives_the_same_sums_and_signals_with_the_scanner(lines: list[bytes]) -> None:
    """Random and damaged lines with money, token, counter and status keys of every type agree."""
    try:
        python, scanned = _sides(lines)
    except ValueError:
        # int() of a digit Python cannot read as a number ('²'): both paths raise it alike
        with pytest.raises(ValueError):
            _sides_compiled_only(lines)
        return
    assert scanned == python


def _sides_compiled_only(lines: list[bytes]) -> Any:
    columns = LineParser(now=lambda: 0.0).parse_columns(lines)
    return SideValues()(from_columns(0, columns, lines))


@pytest.mark.parametrize(
    "name", ["corpus/structlog.jsonl", "corpus/pino.jsonl", "corpus/python-json-logger.jsonl"]
)
@pytest.mark.parametrize("spelling", ["compact", "spaced"])
def test_the_side_scan_reads_nearly_every_line_of_real_recordings(name: str, spelling: str) -> None:
    """The compiled side scan leaves few lines to the Python path (none but odd ones)."""
    lines = dict(_spellings(dict(CASES)[name]))[spelling]
    with _counted(projection, "scan_side") as read:
        _sides_compiled_only(lines)
    assert read[0] >= 0.95 * len(lines), (read[0], len(lines))


def _iso(date: tuple[int, int, int], clock: tuple[int, int, int], sep: str, tail: str) -> str:
    (y, mo, d), (h, mi, s) = date, clock
    return f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{tail}"


_NEW_SECONDS = st.builds(
    _iso,
    st.tuples(st.integers(0, 10_000), st.integers(0, 13), st.integers(0, 32)),
    st.tuples(st.integers(0, 24), st.integers(0, 60), st.integers(0, 62)),
    st.sampled_from(["T", " ", "t"]),
    st.sampled_from(["", "Z", "z", ".312Z", ",413", ".5", ".123456Z", " ", "+00:00", ".312z", "Zx"]),
)


@settings(max_examples=400, deadline=None)
@given(times=st.lists(st.one_of(_NEW_SECONDS, st.sampled_from(_TIMES)), min_size=1, max_size=8))
def test_seconds_met_for_the_first_time_map_the_same_with_the_scanner(times: list[str]) -> None:
    """A time whose second the cache lacks (dates valid or not, leap days and seconds, odd tails): the
    scan gives the line the time the Python path gives and caches the second as it does."""
    lines = [json.dumps({"ts": t, "level": "info", "event": "e"}).encode() for t in times]
    mapping.seconds.clear()
    mapping.fractions.clear()
    with _python_only():
        python = _rows(LineParser(now=lambda: 0.0), lines, 100)
    learned = dict(mapping.seconds), dict(mapping.fractions)
    mapping.seconds.clear()
    mapping.fractions.clear()
    scanned = _rows(LineParser(now=lambda: 0.0), lines, 100)
    assert scanned == python
    assert (mapping.seconds, mapping.fractions) == learned


def test_a_writer_logging_once_a_second_is_mapped_by_the_scan() -> None:
    """Each line a second (and a fraction) new to the process: the scan maps them itself; each went
    through the Python path before, as every line of a writer logging once a second did."""
    lines = [
        json.dumps({"ts": f"2026-03-04T10:{i // 60:02d}:{i % 60:02d}.{i:03d}Z", "level": "info"}).encode()
        for i in range(600)
    ]
    LineParser(now=lambda: 0.0).parse_rows(lines[:1])  # the source's first line teaches the projection
    mapping.seconds.clear()
    mapping.fractions.clear()
    with _counted(parse, "scan_rows") as mapped:
        rows = LineParser(now=lambda: 0.0).parse_rows(lines)
    assert len(rows) == 600
    assert mapped[0] >= 590, mapped[0]


def test_repeated_role_values_are_one_object_and_every_text_stays_right() -> None:
    """The scan gives a plain ASCII value it made recently the same str again (a table by hash of the
    bytes): rows repeating an event, op or trace share one object, and values enough to fill and
    overwrite every slot of the table (colliding ones among them) each keep their own text."""
    values = [f"v{i:x}" for i in range(20_000)]
    lines = [
        json.dumps(
            {"ts": "2026-03-04T10:00:00Z", "level": "info", "event": v, "op": f"o{v}", "trace_id": f"t{v}"}
        ).encode()
        for v in values * 2
    ]
    parser = LineParser(now=lambda: 0.0)
    parser.parse_rows(lines[:1])  # the source's first line teaches the projection
    with _counted(parse, "scan_rows") as mapped:
        rows = parser.parse_rows(lines)
    assert mapped[0] >= len(lines) - 1
    assert [(r[4], r[8], r[5]) for r in rows] == [(v, "o" + v, "t" + v) for v in values * 2]
    again = parser.parse_rows(lines[:3] * 2)
    assert all(again[k][f] is again[k + 3][f] for k in range(3) for f in (4, 5, 8))


def _columns_and_rows(lines: list[bytes], batch: int) -> tuple[list[Row], list[Row]]:
    """Rows of ``lines`` in batches by ``parse_columns`` (the scan appending to column lists), and by
    ``parse_rows`` (row tuples), each from a new parser."""
    by_columns, by_rows = LineParser(now=lambda: 0.0), LineParser(now=lambda: 0.0)
    columns: list[Row] = []
    for start in range(0, len(lines), batch):
        columns.extend(by_columns.parse_columns(lines[start : start + batch]).rows())
    rows = [
        r for start in range(0, len(lines), batch) for r in by_rows.parse_rows(lines[start : start + batch])
    ]
    return columns, rows


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("batch", [1, 7, 100_000])
def test_column_batches_hold_the_rows_of_row_batches(name: str, lines: list[bytes], batch: int) -> None:
    """``parse_columns`` (the scan's column form) gives every fixture's rows, in three spellings and
    batch sizes, as ``parse_rows`` gives them, untimed leading lines backdated alike."""
    for spelling, spelled in _spellings(lines):
        columns, rows = _columns_and_rows(spelled, batch)
        assert columns == rows, (name, spelling)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.one_of(_line(), _line(shaped=True), st.just(b"plain text")), min_size=1, max_size=12),
    batch=st.sampled_from([1, 3, 100]),
)
def test_any_line_maps_to_the_same_columns_as_rows(lines: list[bytes], batch: int) -> None:
    """Random, damaged and untimed lines: the column form holds the rows the row form gives."""
    columns, rows = _columns_and_rows(lines, batch)
    assert columns == rows


def _marked_sides(lines: list[bytes], overrides: dict[str, str] | None = None) -> tuple[Any, Any, int]:
    """Sums and signals of ``lines`` read on every line, then only on the lines the parser marked as
    holding a side key (``LineParser.side_keys``), and how many it marked (-1: it could not tell)."""
    every = LineParser(overrides, now=lambda: 0.0).parse_columns(lines)
    marking = LineParser(overrides, now=lambda: 0.0)
    marking.side_keys = SIDE_KEYS
    marked = marking.parse_columns(lines)
    assert every.side_lines is None
    assert every.rows() == marked.rows()
    read = [SideValues()(from_columns(0, c, lines)) for c in (every, marked)]
    sides = [(r.shipped_sums, r.shipped_signals) for r in read]
    return sides[0], sides[1], -1 if marked.side_lines is None else len(marked.side_lines)


@pytest.mark.parametrize(("name", "lines"), CASES, ids=[c[0] for c in CASES])
def test_sums_and_signals_of_marked_lines_only_equal_those_of_every_line(
    name: str, lines: list[bytes]
) -> None:
    """Every fixture in three spellings: reading sums and signals on the marked lines only ships what
    reading every line ships."""
    for spelling, spelled in _spellings(lines):
        every, marked, _ = _marked_sides(spelled)
        assert marked == every, (name, spelling)


def test_lines_without_a_side_key_are_not_marked() -> None:
    """The structlog session: only the lines with money, tokens, counters or statuses are marked."""
    lines = dict(_spellings(dict(CASES)["corpus/structlog.jsonl"]))["compact"]
    holding = [k for k, line in enumerate(lines) if not set(json.loads(line)).isdisjoint(SIDE_KEYS)]
    every, marked, count = _marked_sides(lines)
    assert marked == every
    assert len(holding) <= count <= len(holding) + 0.05 * len(lines)
    assert count < 0.8 * len(lines)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_line(pairs=_SIGNAL_PAIRS), min_size=1, max_size=12),
    overrides=st.sampled_from([None, {"op": "status"}, {"event": "usage"}]),
)
def test_any_line_gives_the_same_sums_and_signals_marked_or_not(
    lines: list[bytes], overrides: dict[str, str] | None
) -> None:
    """Random and damaged lines with side keys of every type (a side key as a role's too): the marked
    lines' sums and signals are every line's."""
    try:
        every, marked, _ = _marked_sides(lines, overrides)
    except ValueError:
        return  # int() of a digit Python cannot read ('²'), raised alike (see the test above)
    assert marked == every
