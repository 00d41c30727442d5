"""LogModel: the one mutation point, per-source parsers, corpus ground truth, what ingest reports."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agent_tui.model.clock import FrozenClock
from agent_tui.model.session import IngestResult, LogModel
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
NAMES = ("structlog.jsonl", "pino.jsonl", "python-json-logger.jsonl")


def file_batch(path: Path) -> LineBatch:
    """The whole file as one batch with offsets, as a file source reads it."""
    lines = path.read_bytes().split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    offsets = []
    offset = 0
    for item in lines:
        offsets.append(offset)
        offset += len(item) + 1
    st = path.stat()
    return LineBatch(str(path), lines, offsets, f"{st.st_dev}:{st.st_ino}", str(path))


@pytest.mark.parametrize("name", NAMES)
def test_corpus_counts_match_ground_truth(name: str) -> None:
    """Each real recording is indexed with the expected line, level, error and trace counts."""
    expected = orjson.loads((CORPUS / "expected.json").read_bytes())[name]
    model = LogModel(clock=FrozenClock(0.0))
    result = model.ingest(file_batch(CORPUS / name))
    assert result.count == expected["lines"] == len(model.store)
    totals = {level.label: n for level, n in model.stats.counts(None).items() if n}
    assert totals == expected["level_norm"]
    assert len(result.new_errors) == expected["error_lines"]
    assert len(result.new_criticals) == expected["critical_lines"]
    assert len(model.traces) == expected["distinct_trace_ids"]
    assert (
        sum(1 for s in range(result.count) if model.store.record(s).error is not None)
        == expected["exception_lines"]
    )
    assert model.store.raw_count == 0


def test_ingest_result_describes_the_batch() -> None:
    """IngestResult names the new seqs, new errors and criticals, touched traces and the source."""
    model = LogModel()
    first = model.ingest(LineBatch("a", [b'{"event":"x","level":"info","trace_id":"t1"}']))
    second = model.ingest(
        LineBatch(
            "b",
            [
                b'{"event":"y","level":"error","trace_id":"t2"}',
                b'{"event":"z","level":"critical"}',
                b'{"event":"w","level":"debug","trace_id":"t1"}',
            ],
        )
    )
    assert first == IngestResult(0, 1, [], [], {"t1"}, 0, 0, 0)
    assert (second.first_seq, second.count, second.new_errors, second.new_criticals) == (1, 3, [1, 2], [2])
    assert second.touched_traces == {"t1", "t2"} and second.source == 1


def test_each_source_has_its_own_parser_state() -> None:
    """A line without a time takes the previous time of its own source, not of another source."""
    model = LogModel()
    model.ingest(LineBatch("a", [b'{"ts":"2026-03-04T00:00:10Z","event":"a1"}']))
    model.ingest(LineBatch("b", [b'{"ts":"2026-03-04T00:05:00Z","event":"b1"}']))
    model.ingest(LineBatch("a", [b'{"event":"a2 has no time"}']))
    record = model.store.record(2)
    assert record.ts_inferred and record.ts == model.store.record(0).ts


def test_field_overrides_reach_every_parser() -> None:
    """--field overrides given to the model apply to each source's parser."""
    model = LogModel(overrides={"level": "sev"})
    model.ingest(LineBatch("a", [b'{"event":"x","sev":"error","level":"info"}']))
    assert model.store.record(0).level == Level.ERROR


def test_empty_batch_is_harmless() -> None:
    """A batch with no lines adds nothing and reports nothing."""
    model = LogModel()
    result = model.ingest(LineBatch("a", []))
    assert (result.count, result.new_errors, result.touched_traces) == (0, [], set())
    assert len(model.store) == 0 and model.stats.total == 0
