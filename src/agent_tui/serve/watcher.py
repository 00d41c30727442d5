"""One poller for the whole served directory that wakes every waiting client when anything changes."""

from __future__ import annotations

import asyncio
import contextlib

from agent_tui.serve.files import FileInfo, ServedDir

__all__ = ["DirWatcher"]


class DirWatcher:
    """Scans the served directory every ``interval`` seconds; clients await a change instead of polling."""

    def __init__(self, served: ServedDir, interval: float = 0.05) -> None:
        self.served = served
        self.interval = interval
        self.files: dict[str, FileInfo] = served.scan()
        self.generation = 0
        self._changed: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        """Start polling on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="serve-dir-watcher")

    async def stop(self) -> None:
        """Stop polling and wake every waiter so it can notice the shutdown."""
        self._stopped = True
        self._wake()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def stopped(self) -> bool:
        """Whether the server is shutting down."""
        return self._stopped

    async def wait(self, generation: int, seconds: float) -> int:
        """Wait until the directory changed after ``generation`` (at most ``seconds``); return the new one."""
        if self.generation != generation or self._stopped:
            return self.generation
        if self._changed is None or self._changed.done():
            self._changed = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._changed), seconds)
        return self.generation

    def _wake(self) -> None:
        if self._changed is not None and not self._changed.done():
            self._changed.set_result(None)

    async def _run(self) -> None:
        previous = {name: (i.size, i.ino, i.dev) for name, i in self.files.items()}
        while not self._stopped:
            await asyncio.sleep(self.interval)
            files = self.served.scan()
            current = {name: (i.size, i.ino, i.dev) for name, i in files.items()}
            if current != previous:
                self.files = files
                previous = current
                self.generation += 1
                self._wake()
