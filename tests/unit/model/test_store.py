"""Store: columns, eviction, raw re-reads from files and spill, lazy attributes, display order."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.record import Record
from agent_tui.model.session import LogModel
from agent_tui.model.store.rawio import RawFiles
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
T0 = 1_772_582_400.0  # 2026-03-04T00:00:00Z


def line(t: float, event: str = "tick", level: str = "info", **extra: Any) -> bytes:
    """One wire-schema line at ``T0 + t`` seconds."""
    ms = round(t * 1000)
    stamp = f"2026-03-04T00:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"
    return orjson.dumps({"ts": stamp, "level": level, "event": event, **extra})


def memory_batch(lines: list[bytes], source: str = "stdin") -> LineBatch:
    """A batch from a source without a file (its lines must be spilled)."""
    return LineBatch(source, lines)


def file_batches(path: Path, lines: list[bytes], source: str | None = None) -> LineBatch:
    """Write ``lines`` to ``path`` and describe them as a file source would."""
    with path.open("ab") as fh:
        start = fh.tell()
        fh.write(b"".join(x + b"\n" for x in lines))
    offsets = []
    offset = start
    for x in lines:
        offsets.append(offset)
        offset += len(x) + 1
    st = path.stat()
    return LineBatch(source or str(path), lines, offsets, f"{st.st_dev}:{st.st_ino}", str(path))


def test_records_come_back_from_columns() -> None:
    """A record's normalised fields survive the round trip through the columns."""
    model = LogModel()
    data = line(
        1.5, "bet.placed", "warning", trace_id="t1", span_id="s1", parent_span_id="s0", op="casino.bet"
    )
    result = model.ingest(memory_batch([data]))
    record = model.store.record(result.first_seq)
    assert (record.event, record.level, record.trace_id, record.span_id) == (
        "bet.placed",
        Level.WARNING,
        "t1",
        "s1",
    )
    assert (record.parent_span_id, record.op, record.raw) == ("s0", "casino.bet", False)
    assert record.ts == pytest.approx(T0 + 1.5)
    assert record.length == len(data)
    built = Record(
        seq=0, ts=record.ts, level=Level.WARNING, event="bet.placed", trace_id="t1", span_id="s1",
        parent_span_id="s0", op="casino.bet", error=None, source=0, offset=0, length=len(data),
        raw=False, ts_inferred=False,
    )  # fmt: skip
    assert record == built and repr(record) == repr(built)


def test_raw_reread_by_offset_from_a_real_file(tmp_path: Path) -> None:
    """Lines from a file are re-read at their offset, even after the file was renamed away (rotation)."""
    path = tmp_path / "agent.jsonl"
    lines = [line(i, f"e{i}", extra="x" * i) for i in range(50)]
    model = LogModel()
    model.ingest(file_batches(path, lines[:25]))
    model.ingest(file_batches(path, lines[25:]))
    os.rename(path, tmp_path / "agent.jsonl.1")
    path.write_bytes(b"not the same bytes\n" * 100)
    assert [model.store.raw(s) for s in range(50)] == lines
    assert list(model.store.raw_many(list(range(50)))) == lines
    assert model.store.record(30).offset == sum(len(x) + 1 for x in lines[:30])


def test_raw_reread_from_spill_for_fileless_sources() -> None:
    """Lines without a file (stdin, remote) are spilled and read back byte for byte."""
    model = LogModel()
    lines = [line(i, f"e{i}") for i in range(10)] + [b"plain text \xff\xfe line", b"-"]
    model.ingest(memory_batch(lines[:4]))
    model.ingest(memory_batch(lines[4:]))
    assert [model.store.raw(s) for s in range(len(lines))] == lines
    assert list(model.store.raw_many([11, 3, 4, 5])) == [lines[11], lines[3], lines[4], lines[5]]


def test_batch_whose_file_was_replaced_before_opening_is_spilled(tmp_path: Path) -> None:
    """When the file at the path is no longer the one the offsets refer to, the lines are kept anyway."""
    path = tmp_path / "a.jsonl"
    lines = [line(i, f"e{i}") for i in range(3)]
    batch = file_batches(path, lines)
    path.unlink()
    path.write_bytes(b"x" * 500)
    model = LogModel()
    model.ingest(batch)
    assert [model.store.raw(s) for s in range(3)] == lines


def test_raw_lines_are_counted_and_keep_their_text() -> None:
    """Unparsed lines count in raw_count and show their own text as the event."""
    model = LogModel()
    model.ingest(memory_batch([line(0), b"Traceback (most recent call last):", b"[1, 2]"]))
    assert model.store.raw_count == 2
    record = model.store.record(1)
    assert record.raw and record.event == "Traceback (most recent call last):"


def test_error_info_is_recovered_lazily() -> None:
    """The exception of an error record is not kept in memory but comes back on demand."""
    model = LogModel()
    error = {"type": "TimeoutError", "message": "slow", "traceback": ["Traceback", "TimeoutError: slow"]}
    result = model.ingest(memory_batch([line(0), line(1, "bet.failed", "error", error=error)]))
    assert result.new_errors == [1]
    record = model.store.record(1)
    assert record.error is not None and record.error.type == "TimeoutError"
    assert record.error.traceback[-1] == "TimeoutError: slow"
    assert model.store.record(0).error is None


def test_eviction_keeps_the_newest_and_counts_the_rest() -> None:
    """With max_records the oldest records go first, evicted counts them and old seqs raise."""
    model = LogModel(max_records=1000)
    for chunk in range(10):
        lines = [
            line(chunk * 300 + i, f"e{chunk * 300 + i}", "error" if i % 100 == 0 else "info")
            for i in range(300)
        ]
        result = model.ingest(memory_batch(lines))
    store = model.store
    assert len(store) == 1000 and store.evicted == 2000 and store.first_seq == 2000
    assert result.evicted == 2000
    assert store.record(2000).event == "e2000"
    assert store.raw(2999) == line(2999, "e2999")
    assert list(store.time_order()) == list(range(2000, 3000))
    assert list(store.error_seqs()) == [s for s in range(2000, 3000) if s % 300 % 100 == 0]
    with pytest.raises(IndexError):
        store.record(1999)


def test_time_bounds_cover_only_the_records_held() -> None:
    """Earliest and newest time come from held records only, whatever their order (None when empty)."""
    model = LogModel(max_records=1500)
    assert model.store.time_bounds() is None
    model.ingest(memory_batch([line(1000 - i) for i in range(1000)]))
    t0 = model.store.ts(999) - 1.0
    assert model.store.time_bounds() == (t0 + 1.0, t0 + 1000.0)
    model.ingest(memory_batch([line(2000 + i % 7) for i in range(1000)]))
    store = model.store
    assert store.first_seq == 500 and store.columns_base == 0
    assert store.time_bounds() == (t0 + 1.0, t0 + 2006.0)
    model.ingest(memory_batch([line(1500.5)] * 500))
    assert store.first_seq - store.columns_base == 1000  # evicted rows still in the column, skipped
    assert store.time_bounds() == (t0 + 1500.5, t0 + 2006.0)


def test_eviction_forgets_old_ids() -> None:
    """Span and trace ids of evicted records do not pile up while following forever."""
    model = LogModel(max_records=500)
    for chunk in range(40):
        lines = [line(i, trace_id=f"t{chunk}-{i // 10}", span_id=f"s{chunk}-{i}") for i in range(250)]
        model.ingest(memory_batch(lines))
    assert len(model.store.ids.strings) < 3000  # 11 000 ids were seen
    assert model.store.record(model.store.end_seq - 1).span_id == "s39-249"
    assert model.store.trace_id(model.store.first_seq) is not None
    assert len(model.traces) <= 2 * 500 // 10 + 50


def test_attrs_are_parsed_lazily_and_cached_in_an_lru() -> None:
    """attrs() decodes a line once, serves repeats from the LRU and drops the least recent."""
    model = LogModel(attrs_cache=3)
    store = model.store
    model.ingest(memory_batch([line(i, amount_usdc=i) for i in range(5)]))
    assert not store._attrs
    first = store.attrs(0)
    assert first["amount_usdc"] == 0
    assert store.attrs(0) is first
    for seq in (1, 2, 3):
        store.attrs(seq)
    assert 0 not in store._attrs and list(store._attrs) == [1, 2, 3]
    assert store.attrs(4, cache=False)["amount_usdc"] == 4
    assert 4 not in store._attrs


def test_lines_with_several_records_map_each_to_its_own_attrs() -> None:
    """An OTLP export line gives several records; each gets its own event and attributes."""
    data = (FIXTURES / "formats" / "otlp.jsonl").read_bytes().splitlines()
    model = LogModel()
    result = model.ingest(memory_batch(data))
    assert result.count > len(data)
    store = model.store
    seqs = [s for s in range(result.count) if store.record(s).offset == store.record(1).offset]
    assert len(seqs) > 1
    events = [store.record(s).event for s in seqs]
    assert len(set(events)) > 1 or len({id(store.attrs(s)) for s in seqs}) == len(seqs)


def test_single_source_display_order_is_arrival_order() -> None:
    """With one source the display order is arrival order, even if times go backwards."""
    model = LogModel()
    model.ingest(memory_batch([line(5), line(1), line(3)]))
    assert model.store.time_order() == range(0, 3)
    assert model.store.arrival_ordered


def test_several_sources_are_interleaved_by_time() -> None:
    """History from two sources read one after the other is shown merged by time, stably."""
    model = LogModel()
    model.ingest(memory_batch([line(t, f"a{t}") for t in (0, 2, 4, 6)], "a"))
    epoch = model.store.order_epoch
    model.ingest(memory_batch([line(t, f"b{t}") for t in (1, 2, 5, 7)], "b"))
    assert model.store.order_epoch != epoch
    events = [model.store.record(s).event for s in model.store.time_order()]
    assert events == ["a0", "b1", "a2", "b2", "a4", "b5", "a6", "b7"]
    model.ingest(memory_batch([line(8, "a8")], "a"))
    model.ingest(memory_batch([line(3, "b3")], "b"))
    events = [model.store.record(s).event for s in model.store.time_order()]
    assert events == ["a0", "b1", "a2", "b2", "b3", "a4", "b5", "a6", "b7", "a8"]


def test_source_names_are_kept_per_record() -> None:
    """Each record knows which source it came from."""
    model = LogModel()
    model.ingest(memory_batch([line(0)], "one.jsonl"))
    model.ingest(memory_batch([line(1)], "two.jsonl"))
    store = model.store
    assert [store.source_name(store.record(s).source) for s in (0, 1)] == ["one.jsonl", "two.jsonl"]


def test_span_ids_round_trip_whether_hex_or_not() -> None:
    """Span ids, canonical 16-hex or not, come back as the line has them (re-parsed, not columns)."""
    model = LogModel()
    hexes = ["00000000000000ff", "ffffffffffffffff", "0123456789abcdef"]
    odd = ["s-1", "ABCDEF0123456789", "0x0000000000001f", "1234"]
    lines = [line(0, span_id=s, parent_span_id=p) for s, p in zip(hexes + odd, odd + hexes, strict=False)]
    lines.append(line(1, span_id=hexes[0]))
    model.ingest(memory_batch(lines))
    model.ingest(memory_batch([line(2, span_id=h, parent_span_id=h) for h in hexes]))
    got = [(model.store.record(s).span_id, model.store.record(s).parent_span_id) for s in range(len(lines))]
    parsed = [LineParser().parse(x)[0] for x in lines]  # the parser may normalise ids (0x, case)
    assert got == [(p.span_id, p.parent_span_id) for p in parsed]
    assert got[0] == (hexes[0], "s-1") and got[-1] == (hexes[0], None)
    assert model.store.record(len(lines)).parent_span_id == hexes[0]


def test_all_zero_span_ids_mean_none() -> None:
    """The all-zero 16-hex span id reads back as no span, as when span ids were kept as 64-bit values."""
    model = LogModel()
    model.ingest(
        memory_batch([line(0, span_id="0" * 16), line(1, span_id="0" * 15 + "1", parent_span_id="0" * 16)])
    )
    assert model.store.record(0).span_id is None
    assert (model.store.record(1).span_id, model.store.record(1).parent_span_id) == ("0" * 15 + "1", None)


def test_offsets_beyond_four_gib(tmp_path: Path) -> None:
    """A line past the 4 GiB mark of a (sparse) file is still re-read at the right offset."""
    path = tmp_path / "huge.jsonl"
    data = line(0, "far away")
    far = (1 << 32) + 12345
    with path.open("wb") as fh:
        fh.truncate(far)
        fh.seek(far)
        fh.write(data + b"\n")
    st = path.stat()
    model = LogModel()
    model.ingest(memory_batch([line(0, "near")]))
    model.ingest(LineBatch(str(path), [data], [far], f"{st.st_dev}:{st.st_ino}", str(path)))
    assert model.store.raw(1) == data and model.store.record(1).offset == far
    assert model.store.raw(0) == line(0, "near")


def test_lines_longer_than_64_kib_keep_their_length(tmp_path: Path) -> None:
    """A line past 64 KiB after short ones (the length column widens) is re-read whole, as are the others."""
    path = tmp_path / "long.jsonl"
    short = [line(0, "short"), line(1, "short")]
    long = line(2, "long", blob="x" * 100_000)
    model = LogModel()
    model.ingest(file_batches(path, short))
    model.ingest(file_batches(path, [long, line(3, "after")]))
    assert [model.store.raw(s) for s in range(4)] == [*short, long, line(3, "after")]
    assert model.store.record(2).length == len(long)


def test_reopened_files_must_still_be_the_same_file(tmp_path: Path) -> None:
    """With few descriptors open, a file is reopened by path, and a replaced file never serves wrong bytes."""
    files = RawFiles(max_open=1)
    paths = [tmp_path / f"{n}.jsonl" for n in range(3)]
    placed = []
    for n, path in enumerate(paths):
        lines = [f"line {n}".encode()]
        path.write_bytes(lines[0] + b"\n")
        st = path.stat()
        placed.append(files.place(str(path), f"{st.st_dev}:{st.st_ino}", lines, [0]))
    assert [files.read(index, offsets[0], 6) for index, offsets in placed] == [
        b"line 0",
        b"line 1",
        b"line 2",
    ]
    paths[0].rename(tmp_path / "moved")
    paths[0].write_bytes(b"other!\n")
    index, offsets = placed[0]
    assert files.read(index, offsets[0], 6) == b""
    assert files.read(placed[1][0], 0, 6) == b"line 1"
    files.close()


@pytest.mark.parametrize("bound", [0, -5])
def test_max_records_below_one_is_refused(bound: int) -> None:
    """A bound that keeps nothing is a clear error at construction, not a crash at the first eviction."""
    with pytest.raises(ValueError, match="max_records must be at least 1"):
        LogModel(max_records=bound)
