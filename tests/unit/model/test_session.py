"""LogModel: the one mutation point, per-source parsers, corpus ground truth, what ingest reports."""

from __future__ import annotations

import gc
import threading
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


def fleet_file(path: Path, n: int) -> Path:
    """A deterministic multi-trace file with money, tokens, errors and a line without a newline at the end."""
    out = []
    for i in range(n):
        t = i // 7 + 1  # an all-zero trace id would mean "no trace"
        level = "error" if i % 97 == 0 else "info"
        stamp = f"2026-03-04T01:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 100:02d}0Z"
        fields: dict[str, object] = {"ts": stamp}
        fields.update(level=level, event=f"step.{i % 5}", trace_id=f"{t:032x}", span_id=f"{i:016x}")
        if i % 3 == 0:
            fields["amount_usdc"] = 1.5
        if i % 11 == 0:
            fields["usage"] = {"input_tokens": 10, "output_tokens": 2}
        out.append(orjson.dumps(fields))
    path.write_bytes(b"\n".join(out))
    return path


def test_parallel_load_equals_sequential_ingest(tmp_path: Path) -> None:
    """load_file with worker processes indexes exactly what batch-by-batch ingest does."""
    path = fleet_file(tmp_path / "fleet.jsonl", 6000)
    serial = LogModel(clock=FrozenClock(0.0))
    one = serial.load_file(str(path), workers=1)
    parallel = LogModel(clock=FrozenClock(0.0))
    many = parallel.load_file(str(path), workers=2, parallel_min_bytes=0, piece_bytes=64 << 10)
    assert (many.count, many.new_errors) == (one.count, one.new_errors)
    assert many.touched_traces == one.touched_traces
    assert many.count == 6000
    for seq in (0, 1, 2999, 5999):
        assert parallel.store.record(seq) == serial.store.record(seq)
        assert parallel.store.raw(seq) == serial.store.raw(seq)
    assert parallel.stats.counts(None) == serial.stats.counts(None)
    for trace in serial.traces.traces():
        other = parallel.traces.get(trace.trace_id)
        assert other is not None
        assert (other.record_count, other.amount_usdc, other.tokens) == (
            trace.record_count,
            trace.amount_usdc,
            trace.tokens,
        )
    assert sum(t.tokens for t in serial.traces.traces()) == 12 * len(range(0, 6000, 11))


def test_model_as_context_manager_closes_the_spill_file() -> None:
    """Leaving the with-block closes the store's files; reads then fail instead of returning stale bytes."""
    with LogModel() as model:
        model.ingest(LineBatch("stdin", [b'{"event":"x"}']))
        assert model.store.raw(0) == b'{"event":"x"}'
    assert model.store.raw(0) == b""


@pytest.mark.parametrize("workers", [1, 2])
def test_load_file_pauses_the_collector_only_while_it_runs_headless(tmp_path: Path, workers: int) -> None:
    """A headless whole-file load runs with the cyclic collector off and turns it back on, even on error."""
    path = fleet_file(tmp_path / "fleet.jsonl", 3000)
    headless = threading.active_count() == 1
    seen: list[bool] = []
    LogModel().load_file(
        str(path), workers=workers, parallel_min_bytes=0, piece_bytes=32 << 10,
        progress=lambda *_: seen.append(gc.isenabled()),
    )  # fmt: skip
    assert seen and set(seen) == {not headless}
    assert gc.isenabled()

    def fail(*_: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        LogModel().load_file(str(path), workers=workers, parallel_min_bytes=0, progress=fail)
    assert gc.isenabled()
