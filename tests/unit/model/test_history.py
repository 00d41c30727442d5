"""HistoryLoad: a file's history parsed in worker processes, handed out in file order, stoppable at once."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import orjson

from agent_tui.model.parsing.history import HistoryLoad
from agent_tui.model.parsing.loader import Shipped, byte_ranges
from agent_tui.model.session import LogModel


def write_lines(path: Path, count: int) -> list[int]:
    """Write ``count`` numbered lines; return each line's start offset."""
    offsets, position, out = [], 0, []
    for n in range(count):
        raw = orjson.dumps({"ts": 1772582400 + n, "level": "info", "event": "tick", "n": n}) + b"\n"
        offsets.append(position)
        position += len(raw)
        out.append(raw)
    path.write_bytes(b"".join(out))
    return offsets


def batches(path: Path, end: int, **options: Any) -> tuple[HistoryLoad, list[Shipped]]:
    """Run a load of ``path[0:end)`` to its end, taking each batch when woken (never sleeping)."""
    woken = threading.Event()
    load = HistoryLoad(str(path), end, wake=woken.set, **options)
    load.start()
    out: list[Shipped] = []
    while not load.drained:
        shipped = load.take()
        if shipped is None:
            woken.wait(10)
            woken.clear()
            continue
        out.append(shipped)
    return load, out


def test_byte_ranges_end_on_line_starts_and_cover_the_history(tmp_path: Path) -> None:
    """Pieces are contiguous, end at line starts, and stop exactly at ``end``."""
    path = tmp_path / "log.jsonl"
    starts = write_lines(path, 500)
    end = starts[400]
    ranges = byte_ranges(str(path), end, piece_bytes=1000)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(stop in starts for _, stop in ranges)
    assert len(ranges) > 5


def test_every_line_before_the_end_arrives_once_in_file_order(tmp_path: Path) -> None:
    """Two workers over many small pieces give each line before ``end`` exactly once, in order."""
    path = tmp_path / "log.jsonl"
    starts = write_lines(path, 3000)
    load, shipped = batches(path, starts[2500], workers=2, piece_bytes=4096)
    assert [offset for batch in shipped for offset in batch[1]] == starts[:2500]
    assert load.error == ""


def test_folded_history_counts_like_a_whole_read(tmp_path: Path) -> None:
    """Batches folded with ``LogModel.ingest_shipped`` index the same records as ``load_file``."""
    path = tmp_path / "log.jsonl"
    starts = write_lines(path, 2000)
    model = LogModel()
    file = model.store.register_file(str(path))
    assert file is not None
    source = model.store.source_id(str(path))
    for shipped in batches(path, path.stat().st_size, workers=2, piece_bytes=8192)[1]:
        model.ingest_shipped(source, file, shipped)
    whole = LogModel()
    whole.load_file(str(path), workers=1)
    assert len(model.store) == len(whole.store) == len(starts)
    assert model.stats.counts(None) == whole.stats.counts(None)
    model.close()
    whole.close()


def test_cancel_ends_the_thread_and_the_workers(tmp_path: Path) -> None:
    """Cancelling mid-load stops the loading thread and leaves no worker process."""
    path = tmp_path / "log.jsonl"
    write_lines(path, 20000)
    load = HistoryLoad(str(path), path.stat().st_size, workers=2, piece_bytes=4096)
    load.start()
    load.cancel()
    assert not load._thread.is_alive()
    assert load.finished
    assert multiprocessing.active_children() == []


def test_a_missing_file_is_an_error_not_an_exception(tmp_path: Path) -> None:
    """A file that vanished before the load ends it with a reason."""
    load, shipped = batches(tmp_path / "gone.jsonl", 100, workers=1)
    assert shipped == []
    assert "gone.jsonl" in load.error


def test_a_file_rotated_before_the_load_is_left_out_with_a_reason(tmp_path: Path) -> None:
    """The file meant (by dev:inode) was renamed away and replaced: nothing of the new one is read."""
    path = tmp_path / "log.jsonl"
    starts = write_lines(path, 100)
    st = path.stat()
    path.rename(tmp_path / "log.jsonl.1")
    write_lines(path, 100)
    load, shipped = batches(path, starts[50], file_id=f"{st.st_dev}:{st.st_ino}", workers=1)
    assert shipped == []
    assert "rotated" in load.error


def test_workers_read_the_file_meant_even_when_the_path_names_another(tmp_path: Path) -> None:
    """Pieces are read through this process's descriptor, so a rename after the start changes nothing."""
    path = tmp_path / "log.jsonl"
    starts = write_lines(path, 3000)
    st = path.stat()
    woken = threading.Event()
    load = HistoryLoad(
        str(path),
        starts[2000],
        wake=woken.set,
        workers=1,
        piece_bytes=4096,
        file_id=f"{st.st_dev}:{st.st_ino}",
    )
    load.start()
    while not load.ready and not load.finished:
        woken.wait(10)
        woken.clear()
    path.rename(tmp_path / "log.jsonl.1")
    path.write_bytes(b"not json at all\n" * 5000)
    offsets: list[int] = []
    while not load.drained:
        shipped = load.take()
        if shipped is None:
            woken.wait(10)
            woken.clear()
            continue
        assert not shipped[0].raws.count(True)
        offsets.extend(shipped[1])
    assert offsets == starts[:2000]
