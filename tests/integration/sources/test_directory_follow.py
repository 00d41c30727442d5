"""A directory source over real files: rotated history in order, new files picked up, rotation inside."""

from __future__ import annotations

import gzip
from pathlib import Path

from agent_tui.sources.base import SourceState
from agent_tui.sources.directory import RETIRE_AFTER_S, DirectorySource
from agent_tui.sources.options import SourceOptions
from tests.integration.sources.helpers import Collector, open_fds, wait_until

FAST = SourceOptions(follow=True, poll_interval=0.02, rescan_interval=0.05)


def numbered(start: int, stop: int) -> bytes:
    """JSON lines with ``n`` from start to stop-1."""
    return b"".join(b'{"n": %d}\n' % n for n in range(start, stop))


def make_rotated(root: Path) -> None:
    """agent.jsonl with siblings .3.gz (oldest), .2.gz, .1 (newest history) and a second log in a subdir."""
    with gzip.open(root / "agent.jsonl.3.gz", "wb") as fh:
        fh.write(numbered(0, 10))
    with gzip.open(root / "agent.jsonl.2.gz", "wb") as fh:
        fh.write(numbered(10, 20))
    (root / "agent.jsonl.1").write_bytes(numbered(20, 30))
    (root / "agent.jsonl").write_bytes(numbered(30, 40))
    (root / "sub").mkdir()
    (root / "sub" / "other.log").write_bytes(numbered(100, 105))
    (root / "notes.txt").write_bytes(b"not a log\n")


async def test_rotated_siblings_are_read_oldest_first_before_the_live_file(tmp_path: Path) -> None:
    """History comes from .3.gz, .2.gz, .1, then the live file, all under the live file's source name."""
    make_rotated(tmp_path)
    collector = Collector(DirectorySource(str(tmp_path), SourceOptions()))
    await wait_until(lambda: collector.ended, "end of history")
    by_source: dict[str, list[int]] = {}
    for batch in collector.batches:
        by_source.setdefault(batch.source, []).extend(int(line[6:-1]) for line in batch.lines)
    assert by_source == {"agent.jsonl": list(range(40)), "sub/other.log": list(range(100, 105))}
    paths = [Path(b.path).name for b in collector.batches if b.source == "agent.jsonl"]
    assert paths == ["agent.jsonl.3.gz", "agent.jsonl.2.gz", "agent.jsonl.1", "agent.jsonl"]
    assert collector.statuses[-1].state is SourceState.DONE


async def test_line_bound_reads_only_the_tail_of_live_files(tmp_path: Path) -> None:
    """With lines=N, rotated siblings are skipped and each live file gives its last N lines."""
    make_rotated(tmp_path)
    collector = Collector(DirectorySource(str(tmp_path), SourceOptions(lines=2)))
    await wait_until(lambda: collector.ended, "end of history")
    assert sorted(collector.numbers()) == [38, 39, 103, 104]


async def test_new_file_is_picked_up_and_rotation_products_are_not_reread(tmp_path: Path) -> None:
    """A log created while following is read from its start; a rename-rotated sibling is not read again."""
    make_rotated(tmp_path)
    collector = Collector(DirectorySource(str(tmp_path), FAST))
    await collector.has_numbers(45)
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    (tmp_path / "sub" / "new.jsonl").write_bytes(numbered(200, 205))
    await collector.has_numbers(50)
    live = tmp_path / "agent.jsonl"
    live.rename(tmp_path / "agent.jsonl.0")
    live.write_bytes(numbered(40, 45))
    await collector.has_numbers(55)
    with (tmp_path / "sub" / "new.jsonl").open("ab") as fh:
        fh.write(numbered(205, 207))
    await collector.has_numbers(57)
    await collector.close()
    numbers = collector.numbers()
    assert len(numbers) == 57
    assert [n for n in numbers if n < 100] == list(range(45))
    assert [n for n in numbers if n >= 200] == list(range(200, 207))
    assert {b.source for b in collector.batches} == {"agent.jsonl", "sub/other.log", "sub/new.jsonl"}


async def test_empty_directory_follows_until_a_log_appears(tmp_path: Path) -> None:
    """An empty followed directory reports following and reads the first log that appears."""
    collector = Collector(DirectorySource(str(tmp_path), FAST))
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    (tmp_path / "first.jsonl").write_bytes(numbered(0, 3))
    await collector.has_numbers(3)
    await collector.close()
    assert collector.numbers() == [0, 1, 2]


async def test_deleted_log_is_let_go_after_it_stays_gone_and_silent(tmp_path: Path) -> None:
    """A deleted live log frees its descriptor once gone and silent for RETIRE_AFTER_S (fake clock)."""
    now = [0.0]
    (tmp_path / "a.jsonl").write_bytes(numbered(0, 2))
    (tmp_path / "b.jsonl").write_bytes(numbered(10, 12))
    collector = Collector(DirectorySource(str(tmp_path), FAST, clock=lambda: now[0]))
    await collector.has_numbers(4)
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    held = open_fds()
    (tmp_path / "a.jsonl").unlink()
    await wait_until(lambda: any("removed; waiting" in s.reason for s in collector.statuses), "removal seen")
    assert open_fds() == held

    def time_passes() -> bool:
        now[0] += RETIRE_AFTER_S / 8
        return open_fds() == held - 1

    await wait_until(time_passes, "the deleted file's descriptor to be released")
    assert now[0] >= RETIRE_AFTER_S
    await wait_until(lambda: any("stopped following" in s.reason for s in collector.statuses), "retiring")
    (tmp_path / "a.jsonl").write_bytes(numbered(2, 3))
    now[0] += 1
    await collector.has_numbers(5)
    await collector.close()
    assert sorted(collector.numbers()) == [0, 1, 2, 10, 11]
