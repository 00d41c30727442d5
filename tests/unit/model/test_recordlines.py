"""Lines to records: blank lines, Docker pieces kept together, the one prefilter's piece guard."""

from __future__ import annotations

from pathlib import Path

import orjson

from agent_tui.model.parsing.recordlines import (
    RecordJudge,
    candidates,
    is_partial_piece,
    may_be_piece,
    record_attrs,
    record_starts,
    trailing_pieces,
)
from agent_tui.model.query import compile_filter
from agent_tui.model.query.scan import Scanner, ScanPlan
from agent_tui.model.session import LogModel
from agent_tui.sources.base import LineBatch

DOCKER = Path(__file__).resolve().parents[2] / "fixtures" / "formats" / "docker-json-file.log"


def docker(log: str, stream: str = "stdout") -> bytes:
    """One Docker json-file envelope line, as the daemon writes it."""
    return orjson.dumps({"log": log, "stream": stream, "time": "2026-11-26T01:01:31.097969908Z"})


INNER = '{"level":"debug","msg":"llm.prompt","prompt":"' + "x" * 40 + '","chars":28278}\n'
PIECES = [docker(INNER[:30]), docker(INNER[30:60]), docker(INNER[60:])]
BEFORE = docker('{"level":"info","msg":"before"}\n')
AFTER = docker('{"level":"info","msg":"after"}\n')


def test_partial_pieces_are_recognised_in_any_spelling() -> None:
    """A Docker line without its final newline is a partial piece, spaced or with an escaped key too."""
    assert [is_partial_piece(line) for line in PIECES] == [True, True, False]
    spaced = b'{"log": "half", "stream": "stdout", "time": "2026-11-26T01:01:31Z"}'
    escaped = b'{"log":"half","\\u0073tream":"stdout","time":"2026-11-26T01:01:31Z"}'
    assert is_partial_piece(spaced) and is_partial_piece(escaped) and may_be_piece(escaped)
    assert not may_be_piece(b'{"level":"info","msg":"no envelope here \\u00e9"}')


def test_joined_record_starts_at_its_first_piece_and_blank_lines_are_skipped() -> None:
    """The joined record's lines run from its first piece; blank lines before it belong to no record."""
    lines = [BEFORE, b"\r", *PIECES, b"", AFTER]
    judge = RecordJudge(None)
    count, keep = judge.judge(lines)
    assert count == 3
    assert keep == [0, 2, 3, 4, 6]
    assert record_starts(lines, [0, 4, 6]) == [0, 2, 6]


def test_filter_judges_the_joined_record() -> None:
    """Attributes only the joined message has (``chars``) and needles in the first piece both match."""
    lines = [BEFORE, *PIECES, AFTER]
    for text in ("chars > 16000", "exists(chars)", 'event == "llm.prompt"', "level == debug"):
        count, keep = RecordJudge(compile_filter(text)).judge(lines)
        assert (count, keep) == (1, [1, 2, 3]), text


def test_prefilter_never_drops_a_piece() -> None:
    """A piece lacking the filter's needle is still parsed, so the record it belongs to is whole."""
    flt = compile_filter('event == "llm.prompt" and chars > 16000')
    lines = [BEFORE, *PIECES, AFTER]
    assert not flt.may_match_line(PIECES[2])
    assert candidates(lines, flt.may_match_line) == [0, 1, 2, 3, 4]
    assert candidates([b"", b" \r", b'{"event":"other"}'], flt.may_match_line) == []


def test_scanner_holds_trailing_pieces_until_their_closing_line() -> None:
    """Pieces at the end of one buffer are printed with their record from the next buffer, counted once."""
    scanner = Scanner(ScanPlan(filter=compile_filter("exists(chars)")))
    first = b"\n".join([BEFORE, PIECES[0], PIECES[1]]) + b"\n"
    assert trailing_pieces(first) == len(BEFORE) + 1
    assert scanner.scan(first) == (0, [])
    assert scanner.scan(PIECES[2] + b"\n" + AFTER + b"\n") == (1, PIECES)


def test_store_keeps_a_joined_records_pieces_so_the_view_sees_its_attributes() -> None:
    """The TUI model's record of a joined message reads back all its pieces and the joined attributes."""
    model = LogModel()
    model.ingest(LineBatch("d", [BEFORE, *PIECES, AFTER]))
    assert len(model.store) == 3
    raw = model.store.raw(1)
    assert raw == b"\n".join(PIECES)
    assert model.store.attrs(1)["chars"] == 28278 == record_attrs(raw)["chars"]
    assert model.store.record(1).event == "llm.prompt"


def test_fixture_joined_record_counted_once_everywhere() -> None:
    """On the Docker fixture, one record has the prompt: judged and counted once, its pieces kept."""
    lines = DOCKER.read_bytes().split(b"\n")
    count, keep = RecordJudge(compile_filter("exists(prompt)")).judge(lines)
    assert count == 1 and len(keep) == 3
    assert [is_partial_piece(lines[i]) for i in keep] == [True, True, False]
