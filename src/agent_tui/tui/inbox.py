"""A bounded hand-off of line batches from source workers to the single place that mutates the store."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace
from typing import Any

from agent_tui.batch import LineBatch

__all__ = ["BatchInbox", "split_batch"]


class BatchInbox:
    """FIFO of batches with back-pressure by line count, awaited (never slept) by producers.

    Producers ``await put(batch)``; when more than ``max_lines`` are waiting they wait until the consumer
    has taken enough, so a fast source cannot grow memory without bound while the UI catches up.
    """

    def __init__(self, max_lines: int = 50_000) -> None:
        self._batches: deque[LineBatch] = deque()
        self._lines = 0
        self._max_lines = max_lines
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self) -> int:
        return len(self._batches)

    @property
    def pending_lines(self) -> int:
        """Lines waiting to be ingested."""
        return self._lines

    @property
    def head_source(self) -> str:
        """The source of the oldest batch (the inbox must not be empty)."""
        return self._batches[0].source

    @property
    def head_live(self) -> bool:
        """Whether the oldest batch was read while following (the inbox must not be empty)."""
        return self._batches[0].live

    def holds(self, paths: set[str]) -> bool:
        """True while a batch read from one of ``paths`` waits to be ingested."""
        return any(batch.path in paths for batch in self._batches)

    async def put(self, batch: LineBatch) -> None:
        """Queue ``batch``, waiting first while the inbox is over its line budget."""
        while self._lines >= self._max_lines:
            self._room.clear()
            await self._room.wait()
        self._batches.append(batch)
        self._lines += len(batch.lines)

    def take(self, max_lines: int = 512) -> LineBatch | None:
        """Remove and return the oldest batch (at most ``max_lines`` of it), or None when empty.

        Big reads are handed out in slices so one ingest step stays short and keys are never
        kept waiting behind a megabyte of history.
        """
        if not self._batches:
            return None
        batch = self._batches[0]
        if len(batch.lines) > max_lines:
            head, tail = split_batch(batch, max_lines)
            self._batches[0] = tail
            batch = head
        else:
            self._batches.popleft()
        self._lines -= len(batch.lines)
        if self._lines < self._max_lines:
            self._room.set()
        return batch


def split_batch(batch: LineBatch, n: int) -> tuple[LineBatch, LineBatch]:
    """The first ``n`` lines of ``batch`` and the rest, with their offsets and cursors."""

    def cut(items: list[Any], lo: int, hi: int | None) -> list[Any]:
        return items[lo:hi] if items else items

    head = replace(
        batch, lines=batch.lines[:n], offsets=cut(batch.offsets, 0, n), cursors=cut(batch.cursors, 0, n)
    )
    tail = replace(
        batch, lines=batch.lines[n:], offsets=cut(batch.offsets, n, None), cursors=cut(batch.cursors, n, None)
    )
    return head, tail
