"""Following a file while a real writer process appends, rotates, truncates and recreates it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.file import FileSource
from agent_tui.sources.options import SourceOptions
from tests.integration.sources.helpers import DEADLINE_S, Collector, open_fds, wait_until

WRITER = str(Path(__file__).with_name("writer.py"))
FAST = SourceOptions(follow=True, poll_interval=0.02)


async def run_writer(path: Path, plan: list[list[Any]], collector: Collector, waits: list[int]) -> None:
    """Run the writer; at each ``wait`` step, release it once the collector holds ``waits[i]`` lines."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        WRITER,
        str(path),
        json.dumps(plan),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None
    for count in waits:
        await collector.has_numbers(count)
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    out, _ = await asyncio.wait_for(proc.communicate(), DEADLINE_S)
    assert proc.returncode == 0
    assert out == b"done\n"


async def follow_through(tmp_path: Path, plan: list[list[Any]], total: int, waits: list[int]) -> Collector:
    """Follow ``agent.jsonl`` while the writer runs ``plan``; return once ``total`` lines arrived."""
    path = tmp_path / "agent.jsonl"
    path.write_bytes(b"")
    collector = Collector(FileSource(str(path), FAST))
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    await run_writer(path, plan, collector, waits)
    await collector.has_numbers(total)
    await collector.close()
    return collector


async def test_rename_rotation_reads_old_file_to_end_then_new_file(tmp_path: Path) -> None:
    """Lines the writer still appends to the renamed file arrive before the new file's, each exactly once."""
    plan = [["write", 0, 200], ["rename"], ["write", 200, 260], ["reopen"], ["write", 260, 400]]
    collector = await follow_through(tmp_path, plan, 400, [])
    assert collector.numbers() == list(range(400))
    assert any("rotated" in s.reason for s in collector.statuses)
    assert len({b.file_id for b in collector.batches}) == 2


async def test_copytruncate_restarts_at_zero_without_duplicates(tmp_path: Path) -> None:
    """After copytruncate the follower reads the truncated file from offset 0: no line twice, none lost."""
    plan = [["write", 0, 300], ["wait"], ["copytruncate"], ["write", 300, 320], ["wait"], ["copytruncate"]]
    plan += [["write", 320, 500]]
    collector = await follow_through(tmp_path, plan, 500, [300, 320])
    assert collector.numbers() == list(range(500))
    assert sum("truncated" in s.reason for s in collector.statuses) == 2
    assert len({b.file_id for b in collector.batches}) == 1


async def test_copytruncate_with_regrowth_past_old_size_is_detected_by_header(tmp_path: Path) -> None:
    """A truncated file that regrew beyond the old read position is caught by its changed first bytes."""
    plan = [["write", 0, 20], ["wait"], ["copytruncate"], ["write", 1000, 1400]]
    path = tmp_path / "agent.jsonl"
    path.write_bytes(b"")
    collector = Collector(FileSource(str(path), SourceOptions(follow=True, poll_interval=0.5, watch=False)))
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    await run_writer(path, plan, collector, [20])
    await collector.has_numbers(420)
    await collector.close()
    assert collector.numbers() == list(range(20)) + list(range(1000, 1400))


async def test_delete_and_recreate_keeps_reading_the_deleted_file_first(tmp_path: Path) -> None:
    """Lines written to the unlinked file before the new one appears are read, then the new file's."""
    plan = [["write", 0, 150], ["delete"], ["write", 150, 170], ["pause", 0.1], ["reopen"]]
    plan += [["write", 170, 300]]
    collector = await follow_through(tmp_path, plan, 300, [])
    assert collector.numbers() == list(range(300))
    assert any("removed" in s.reason for s in collector.statuses)


async def test_partial_line_is_held_until_its_newline(tmp_path: Path) -> None:
    """A line written in two halves with a pause arrives once, whole, after the lines before it."""
    plan = [["write", 0, 10], ["partial", 10], ["write", 11, 20], ["partial", 20], ["write", 21, 30]]
    collector = await follow_through(tmp_path, plan, 30, [])
    assert collector.numbers() == list(range(30))


async def test_mixed_rotations_with_partial_writes_lose_and_repeat_nothing(tmp_path: Path) -> None:
    """Rename, copytruncate and delete-and-recreate in one run, with split lines, deliver 0..N once."""
    plan: list[list[Any]] = [["write", 0, 100], ["partial", 100], ["rename"], ["write", 101, 120], ["reopen"]]
    plan += [["partial", 120], ["write", 121, 200], ["wait"], ["copytruncate"], ["partial", 200]]
    plan += [["write", 201, 300], ["delete"], ["partial", 300], ["reopen"], ["write", 301, 400], ["wait"]]
    plan += [["rename"], ["reopen"], ["partial", 400], ["write", 401, 450]]
    # The waits let the follower see each new file: one that is renamed away before the next poll
    # is never opened (as with tail -F).
    collector = await follow_through(tmp_path, plan, 450, [200, 400])
    assert collector.numbers() == list(range(450))


async def test_close_mid_stream_ends_promptly_and_releases_fds(tmp_path: Path) -> None:
    """close() while following a growing file ends the stream, flushes the held partial, leaks no fd."""
    path = tmp_path / "agent.jsonl"
    path.write_bytes(b"".join(b'{"n": %d}\n' % n for n in range(50)) + b'{"n": 50}')
    before = open_fds()
    collector = Collector(FileSource(str(path), FAST))
    await collector.has_numbers(50)
    assert open_fds() > before  # the file (and the inotify descriptor)
    await collector.close()
    assert collector.numbers() == list(range(51))
    assert collector.statuses[-1].state is SourceState.DONE
    assert open_fds() == before
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


@pytest.mark.parametrize("lines", [0, 3])
async def test_follow_with_line_bound_starts_near_the_end(tmp_path: Path, lines: int) -> None:
    """--lines N shows only the last N lines of history, then every appended line."""
    path = tmp_path / "agent.jsonl"
    path.write_bytes(b"".join(b'{"n": %d}\n' % n for n in range(10)))
    collector = Collector(FileSource(str(path), SourceOptions(follow=True, lines=lines, poll_interval=0.02)))
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    with path.open("ab") as fh:
        fh.write(b'{"n": 10}\n')
    await collector.has_numbers(lines + 1)
    await collector.close()
    assert collector.numbers() == list(range(10 - lines, 11))


async def test_missing_file_is_waited_for_when_following(tmp_path: Path) -> None:
    """Following a path that does not exist yet reports WAITING (no error) and reads it once it appears."""
    path = tmp_path / "late.jsonl"
    collector = Collector(FileSource(str(path), FAST))
    await wait_until(lambda: any(s.state is SourceState.WAITING for s in collector.statuses), "waiting")
    assert all(s.state is not SourceState.ERROR for s in collector.statuses)
    path.write_bytes(b'{"n": 0}\n{"n": 1}\n')
    await collector.has_numbers(2)
    await collector.close()
    assert collector.numbers() == [0, 1]


async def test_unseekable_file_becomes_an_error_status_not_a_crash(tmp_path: Path) -> None:
    """A FIFO handed straight to FileSource ends with an ERROR status naming the problem."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    collector = Collector(FileSource(str(fifo), SourceOptions()))
    await asyncio.wait_for(collector.task, DEADLINE_S)
    errors = [s for s in collector.statuses if s.state is SourceState.ERROR]
    assert len(errors) == 1 and str(fifo) in errors[0].reason
    assert collector.lines == []


async def test_close_between_items_releases_fds_and_still_hands_out_the_partial_line(tmp_path: Path) -> None:
    """close() from the consumer's loop body frees the file at once; iterating on yields the tail, DONE."""
    path = tmp_path / "agent.jsonl"
    path.write_bytes(b'{"n": 0}\n{"n": 1}')
    before = open_fds()
    source = FileSource(str(path), FAST)
    stream = source.stream()
    first = [await anext(stream), await anext(stream)]
    assert [type(item).__name__ for item in first] == ["SourceStatus", "LineBatch"]
    await source.close()
    assert open_fds() == before
    rest = [item async for item in stream]
    assert [item.lines for item in rest if isinstance(item, LineBatch)] == [[b'{"n": 1}']]
    last = rest[-1]
    assert isinstance(last, SourceStatus) and last.state is SourceState.DONE
