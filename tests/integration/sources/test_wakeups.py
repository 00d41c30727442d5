"""inotify wake-ups: followed lines arrive long before the (deliberately huge) poll interval."""

from __future__ import annotations

import time
from pathlib import Path

from agent_tui.sources.base import SourceState
from agent_tui.sources.directory import DirectorySource
from agent_tui.sources.file import FileSource
from agent_tui.sources.inotify import open_watcher
from agent_tui.sources.options import SourceOptions
from tests.integration.sources.helpers import Collector, wait_until

SLOW_POLL = 60.0


def test_inotify_is_available_here() -> None:
    """The CI kernel offers inotify, so the wake-up tests below exercise it rather than polling."""
    watcher = open_watcher()
    assert watcher is not None
    watcher.close()


async def test_appended_line_wakes_a_file_follower(tmp_path: Path) -> None:
    """With a 60 s poll interval, an appended line still arrives within seconds, and close() is prompt."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"n": 0}\n')
    collector = Collector(FileSource(str(path), SourceOptions(follow=True, poll_interval=SLOW_POLL)))
    await collector.has_numbers(1)
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    with path.open("ab") as fh:
        fh.write(b'{"n": 1}\n')
    await collector.has_numbers(2, limit_s=10)
    started = time.monotonic()
    await collector.close()
    assert time.monotonic() - started < 10
    assert collector.numbers() == [0, 1]


async def test_new_file_wakes_a_directory_follower(tmp_path: Path) -> None:
    """A log created in a followed directory is picked up on the inotify event, not the next poll."""
    options = SourceOptions(follow=True, poll_interval=SLOW_POLL, rescan_interval=0.01)
    collector = Collector(DirectorySource(str(tmp_path), options))
    await wait_until(lambda: any(s.state is SourceState.FOLLOWING for s in collector.statuses), "following")
    (tmp_path / "late.jsonl").write_bytes(b'{"n": 7}\n')
    await collector.has_numbers(1, limit_s=10)
    await collector.close()
    assert collector.numbers() == [7]
