"""The caller's share of parsing in ``loader.parallel_batches``, and its workers' lives."""

from __future__ import annotations

import gc
import json
import multiprocessing
import operator
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.model.parsing import loader
from agent_tui.model.parsing.loader import Shipped, _Share, parse_piece, split_file
from agent_tui.model.parsing.workers import COLLECT_EVERY, Workers
from tests.unit.model.spellings import respelled

FORMATS = Path(__file__).resolve().parents[2] / "fixtures" / "formats"


def taken_by_caller(workers: int, parse_s: float, fold_s: float, pieces: int) -> int:
    """Pieces the caller parses when it asks ``wants`` before each piece it folds."""
    share = _Share(workers)
    parsed = 0
    for _ in range(pieces):
        if share.wants():
            share.parsed(parse_s)
            parsed += 1
        share.folded(fold_s)
    return parsed


def test_one_worker_leaves_the_caller_the_balancing_fraction() -> None:
    """P = 40 ms, F = 16 ms, one worker: the caller parses (P - F) / 2P = 30 % of the pieces."""
    assert 29 <= taken_by_caller(1, 0.040, 0.016, 100) <= 31


def test_caller_parses_nothing_once_folding_alone_is_its_share() -> None:
    """When folding a piece costs more than a worker's parse, the caller only folds (after its first try)."""
    assert taken_by_caller(1, 0.010, 0.020, 100) == 1


def test_more_workers_leave_the_caller_less() -> None:
    """Three workers: (P - 3F) / 4P = 10 % with P = 40 ms, F = 8 ms (one worker would leave it 40 %)."""
    assert 19 <= taken_by_caller(3, 0.040, 0.008, 200) <= 21
    assert 79 <= taken_by_caller(1, 0.040, 0.008, 200) <= 81


_CALLER = """
import json, multiprocessing, sys
from agent_tui.model.parsing.loader import parallel_batches
alive, records = [], 0
for columns, _offsets, _lengths in parallel_batches(sys.argv[1], None, 2, piece_bytes=16 << 10):
    alive.append(len(multiprocessing.active_children()))
    records += columns.count
print(json.dumps([alive, records]))
"""


def test_the_workers_are_gone_before_the_last_batch(tmp_path: Path) -> None:
    """Once every piece given to the worker came back it is let go: none is alive (and counted in the
    process tree's memory) while the index reaches its full size.

    Run in a process of its own, a headless caller as ``stats`` is (no other thread, no other children).
    """
    path = _big(tmp_path / "big.jsonl")
    done = subprocess.run(
        [sys.executable, "-c", _CALLER, str(path)], capture_output=True, check=True, timeout=120
    )
    alive, records = json.loads(done.stdout)
    assert records == 20_000
    assert max(alive) == 1
    assert alive[-1] == 0


def _big(path: Path, lines: int = 20_000) -> Path:
    path.write_bytes(
        b"".join(
            b'{"ts":"2026-03-04T00:00:%02d.000Z","level":"info","event":"e%d","trace_id":"t%d"}\n'
            % (i % 60, i, i % 7)
            for i in range(lines)
        )
    )
    return path


_STOPPED_EARLY = """
import json, multiprocessing, sys
from agent_tui.model.parsing.loader import parallel_batches
batches = parallel_batches(sys.argv[1], None, 3, piece_bytes=16 << 10)
next(batches)
during = [p.pid for p in multiprocessing.active_children()]
batches.close()
print(json.dumps([during, [p.pid for p in multiprocessing.active_children()]]))
"""


def test_a_caller_that_stops_reading_stops_its_workers(tmp_path: Path) -> None:
    """Closing the batches half-way terminates and reaps every worker."""
    path = _big(tmp_path / "big.jsonl")
    done = subprocess.run(
        [sys.executable, "-c", _STOPPED_EARLY, str(path)], capture_output=True, check=True, timeout=120
    )
    during, after = json.loads(done.stdout)
    assert len(during) == 2
    assert after == []


_KILLED = """
import multiprocessing, sys
from agent_tui.model.parsing.loader import parallel_batches
batches = parallel_batches(sys.argv[1], None, 3, piece_bytes=16 << 10)
next(batches)
print(*(p.pid for p in multiprocessing.active_children()), flush=True)
sys.stdin.read()
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"  # a zombie has exited
    except FileNotFoundError:
        return True


def test_workers_exit_when_their_caller_is_killed(tmp_path: Path) -> None:
    """A caller killed mid-load (SIGKILL: no cleanup runs) leaves no worker: each sees its pipes end."""
    path = _big(tmp_path / "big.jsonl", 60_000)
    caller = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    pids: list[int] = []
    try:
        assert caller.stdout is not None
        pids += map(int, caller.stdout.readline().split())
        assert len(pids) == 2
        caller.kill()
        caller.wait(timeout=30)
        deadline = time.monotonic() + 60
        while not all(map(_gone, pids)) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a condition: the workers' exit, which no event here announces
        assert all(map(_gone, pids))
    finally:
        caller.kill()
        caller.wait()
        for pid in pids:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)  # a failed run leaves nothing behind either


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_workers_run_jobs_with_the_collector_off_and_collect_between_them(method: str) -> None:
    """A worker pauses the cyclic collector while it parses (its collections cost a fifth of a line's
    time), whether forked from a caller that had it on or started from the forkserver; it still
    collects every ``COLLECT_EVERY`` jobs, so cycles a job leaves behind are freed."""
    assert gc.isenabled()
    pool = Workers(operator.call, 1, multiprocessing.get_context(method))
    try:
        assert pool.take(pool.give(gc.isenabled)) is False
        before = pool.take(pool.give(gc.get_stats))[2]["collections"]
        for _ in range(COLLECT_EVERY):
            pool.take(pool.give(gc.isenabled))
        after = pool.take(pool.give(gc.get_stats))[2]["collections"]
    finally:
        pool.close()
    assert after == before + 1


def test_a_piece_maps_alike_whatever_the_process_parsed_before(tmp_path: Path) -> None:
    """``parse_piece`` keeps its parser's plans and projection and its side reader from piece to piece
    in a process: every piece of a file mixing every format and spelling ships the same columns, sums
    and signals whether it is the first piece the process parses or comes after all the others."""
    path = tmp_path / "mixed.jsonl"
    with path.open("wb") as out:
        for name in sorted(FORMATS.iterdir()):
            if name.is_file() and not name.name.endswith(".expected.json"):
                for _, lines in respelled(name.read_bytes().splitlines()):
                    out.write(b"\n".join(lines) + b"\n")
    jobs = [(str(path), start, end, None) for start, end in split_file(str(path), 4 << 10)]
    assert len(jobs) > 10
    loader._READERS.clear()
    in_order = [_plain(parse_piece(job)) for job in jobs]
    alone = []
    for job in reversed(jobs):
        loader._READERS.clear()
        alone.append(_plain(parse_piece(job)))
    assert in_order == alone[::-1]


def _plain(shipped: list[Shipped]) -> list[Any]:
    """What a piece ships, as comparable values."""
    out: list[Any] = []
    for a, offsets, lengths in shipped:
        values = [getattr(a, f.name) for f in fields(a) if f.name not in ("shipped_sums", "shipped_signals")]
        columns = [v if v is None or isinstance(v, int | bytes) else list(v) for v in values]
        sides = [None if s is None else sorted(s.items()) for s in (a.shipped_sums, a.shipped_signals)]
        out.append((columns, sides, list(offsets), list(lengths)))
    return out


@settings(max_examples=300, deadline=None)
@given(
    lengths=st.lists(st.one_of(st.integers(0, 300), st.sampled_from([65535, 65536, 70000])), max_size=12),
    position=st.one_of(st.integers(0, 1 << 20), st.integers((1 << 32) - 80_000, (1 << 32) + 10)),
)
def test_compiled_line_spans_equal_the_python_ones(lengths: list[int], position: int) -> None:
    """``_rowscan.line_spans`` gives each line's offset and length in the typecodes the Python path
    picks, at the edges of "H" lengths and "I" offsets too."""
    lines = [b"x" * n for n in lengths]
    compiled = loader.line_spans
    assert compiled is not None
    scanned = loader._line_spans(lines, position)
    loader.line_spans = None
    try:
        python = loader._line_spans(lines, position)
    finally:
        loader.line_spans = compiled
    assert [(a.typecode, list(a)) for a in scanned] == [(a.typecode, list(a)) for a in python]
