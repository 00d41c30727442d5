"""Drive blocking readers from asyncio: one worker-thread poll per cycle, sleeping only when idle.

Each cycle hands the whole group to the default executor (``os.pread`` with 1 MiB reads; aiofiles costs
the same CPU, see ``benchmarks/bench_follow.py``, but would take one executor hop per file), yields what it
read, and waits only when every reader was at its end: until an inotify event (then ~10 ms more, to
gather a writer's burst into one batch) or ``poll_interval``, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.inotify import DirWatcher, open_watcher
from agent_tui.sources.tail import Item, Reader

__all__ = ["PollingSource", "ReaderGroup"]

_CLOSE_WAIT_S = 5.0
_COALESCE_S = 0.01


class ReaderGroup:
    """Readers polled together on a worker thread, closed safely even while a poll is running."""

    def __init__(self, readers: Sequence[Reader], *, budget: int) -> None:
        """Group ``readers``; one poll reads at most ``budget`` bytes over all of them."""
        self.readers: list[Reader] = list(readers)
        self.budget = budget
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        self._close_pending = False
        self._turn = 0

    def poll(self) -> tuple[list[Item], bool, bool]:
        """Read from every reader in turn; return ``(items, more_ready, finished)``. Thread-safe."""
        with self._lock:
            if self._closed:
                return [], False, True
            self._busy = True
        out: list[Item] = []
        try:
            more = self.poll_readers(out)
            finished = self.finished()
        finally:
            with self._lock:
                self._busy = False
                if self._close_pending:
                    self._close_now()
        return out, more, finished

    def poll_readers(self, out: list[Item]) -> bool:
        """Poll each live reader, rotating who goes first so one busy file cannot starve the others."""
        readers = [r for r in self.readers if not r.done]
        if not readers:
            return False
        self._turn = (self._turn + 1) % len(readers)
        remaining = self.budget
        more = False
        for reader in readers[self._turn :] + readers[: self._turn]:
            share = max(remaining, 1)
            try:
                used = reader.poll(share, out)
            except OSError as exc:
                # One unreadable file (I/O error, stale handle, not seekable) ends that file, not the source.
                reader.close()
                where = getattr(reader, "path", reader.name)
                out.append(SourceStatus(reader.name, SourceState.ERROR, f"{where}: {exc.strerror or exc}"))
                continue
            remaining -= used
            if used >= share:
                more = True
            if remaining <= 0:
                more = True
                break
        return more

    def watch_dirs(self) -> set[str]:
        """Directories whose changes should wake the source (those of the files read)."""
        paths = (getattr(reader, "path", None) for reader in self.readers)
        return {os.path.dirname(os.path.abspath(p)) for p in paths if isinstance(p, str)}

    def finished(self) -> bool:
        """True when no reader has anything more to give."""
        return all(r.done for r in self.readers)

    def flush(self) -> list[Item]:
        """Collect the partial last lines every reader still holds (when the source is stopped)."""
        out: list[Item] = []
        with self._lock:
            if not self._closed and not self._busy:
                for reader in self.readers:
                    reader.flush(out)
        return out

    def close(self) -> None:
        """Close every reader now, or as soon as the running poll returns."""
        with self._lock:
            if self._busy:
                self._close_pending = True
            else:
                self._close_now()

    def _close_now(self) -> None:
        if not self._closed:
            self._closed = True
            for reader in self.readers:
                reader.close()


class PollingSource:
    """A :class:`~agent_tui.sources.base.Source` over a :class:`ReaderGroup`."""

    def __init__(self, name: str, group: ReaderGroup, poll_interval: float, *, watch: bool = True) -> None:
        """Wrap ``group``; it is polled every ``poll_interval`` seconds while idle.

        Args:
            name: The source's display name.
            group: The readers.
            poll_interval: Seconds between polls when nothing happens.
            watch: Also wake on inotify events (Linux), cutting follow latency to milliseconds.
        """
        self.name = name
        self._group = group
        self._poll_interval = poll_interval
        self._watch = watch
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._finished = asyncio.Event()
        self._gen: AsyncGenerator[LineBatch | SourceStatus, None] | None = None
        self._watcher: DirWatcher | None = None
        self._watched_readers = -1
        self._tail: list[Item] | None = None
        """Partial lines flushed by :meth:`close`, handed out if the consumer keeps iterating."""

    def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Yield batches and status changes; may be called once."""
        if self._gen is not None:
            raise RuntimeError(f"{self.name}: stream() was already called")
        self._gen = self._run()
        return self._gen

    async def close(self) -> None:
        """Stop reading and release the files now.

        A consumer that keeps iterating gets the held partial lines and a DONE status, then the end.
        """
        self._stop.set()
        self._wake.set()
        gen = self._gen
        if gen is not None and getattr(gen, "ag_running", False):
            # Another task is inside the stream: it sees the stop at once and cleans up itself.
            try:
                async with asyncio.timeout(_CLOSE_WAIT_S):
                    await self._finished.wait()
                return
            except TimeoutError:
                pass
        if self._tail is None:
            self._tail = self._group.flush()
        self._unwatch()
        self._group.close()

    async def _run(self) -> AsyncGenerator[LineBatch | SourceStatus, None]:
        loop = asyncio.get_running_loop()
        group = self._group
        try:
            while not self._stop.is_set():
                items, more, finished = await loop.run_in_executor(None, group.poll)
                if self._watch and not finished and not self._stop.is_set():
                    self._watch_dirs(loop)
                for item in items:
                    yield item
                if finished:
                    return
                if not more and not self._stop.is_set():
                    await self._idle(self._watcher is not None)
            for item in self._tail if self._tail is not None else group.flush():
                yield item
            yield SourceStatus(self.name, SourceState.DONE, "closed")
        finally:
            self._unwatch()
            group.close()
            self._finished.set()

    def _watch_dirs(self, loop: asyncio.AbstractEventLoop) -> None:
        # Watching before handing out the items: a change the consumer causes still wakes us.
        watcher = self._watcher
        if watcher is None:
            watcher = self._watcher = open_watcher()
            if watcher is None:
                self._watch = False
                return
            loop.add_reader(watcher.fd, self._on_change, watcher)
        # Rotated siblings share their live file's directory, so only new readers can add directories.
        if len(self._group.readers) != self._watched_readers:
            self._watched_readers = len(self._group.readers)
            for directory in self._group.watch_dirs() - watcher.watched:
                watcher.add(directory)

    def _unwatch(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed at interpreter exit
                asyncio.get_running_loop().remove_reader(watcher.fd)
            watcher.close()

    def _on_change(self, watcher: DirWatcher) -> None:
        watcher.drain()
        self._wake.set()

    async def _idle(self, watching: bool) -> None:
        try:
            async with asyncio.timeout(self._poll_interval):
                await self._wake.wait()
        except TimeoutError:
            return
        self._wake.clear()
        if watching and not self._stop.is_set():
            # A writer emits many small writes: gathering them for a moment makes one batch, not hundreds.
            await asyncio.sleep(min(self._poll_interval, _COALESCE_S))
