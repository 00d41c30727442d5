"""Shared helpers for the source tests: a stream collector and a poll-with-deadline wait."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import orjson

from agent_tui.sources.base import LineBatch, Source, SourceStatus

DEADLINE_S = 20.0


async def wait_until(
    predicate: Callable[[], bool], what: str | Callable[[], str], limit_s: float = DEADLINE_S
) -> None:
    """Poll ``predicate`` until it holds, failing with ``what`` after ``limit_s`` seconds."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what if isinstance(what, str) else what()}")
        await asyncio.sleep(0.01)


class Collector:
    """Consumes a source's stream in a task and keeps everything it yielded."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.batches: list[LineBatch] = []
        self.statuses: list[SourceStatus] = []
        self.lines: list[bytes] = []
        self.ended = False
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.source.stream():
                if isinstance(item, LineBatch):
                    assert len(item.offsets) in (0, len(item.lines))
                    self.batches.append(item)
                    self.lines.extend(item.lines)
                else:
                    self.statuses.append(item)
        finally:
            self.ended = True

    def numbers(self) -> list[int]:
        """The ``n`` field of every line (every line must be an intact JSON object)."""
        return [orjson.loads(line)["n"] for line in self.lines]

    async def has_numbers(self, count: int, limit_s: float = DEADLINE_S) -> None:
        """Wait until ``count`` lines arrived."""
        await wait_until(
            lambda: len(self.lines) >= count, lambda: f"{count} lines (have {len(self.lines)})", limit_s
        )

    async def close(self) -> None:
        """Close the source and wait for the stream to end."""
        await self.source.close()
        await asyncio.wait_for(self.task, DEADLINE_S)


def open_fds() -> int:
    """How many file descriptors this process holds."""
    return len(os.listdir("/proc/self/fd"))
