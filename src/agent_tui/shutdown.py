"""Exit promptly on SIGHUP/SIGTERM: a graceful stop first, then a watchdog that ends the process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Collection, Coroutine, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, Final, TypeVar

__all__ = ["GRACE_S", "HANGUP", "ExitGuard", "remove_tree", "run_until_signal"]

GRACE_S: Final = 1.0
"""How long the graceful stop may take after the first signal before the watchdog ends the process."""
SIGNALS: Final = (signal.SIGHUP, signal.SIGTERM)
HANGUP: Final = (signal.SIGHUP,)
"""For ``at_once``: a hung-up terminal has nobody left to see a graceful exit; go straight to the cleanups."""

Stopper = Callable[[int], None]
T = TypeVar("T")


class ExitGuard:
    """Turns SIGHUP and SIGTERM into a graceful stop that cannot take longer than ``grace_s``.

    ``install`` puts Python-level handlers in place; they run in the main thread even while it waits
    on a lock (a write to a vanished terminal, a full queue), where an event loop's own signal
    handling never gets a turn. The first signal starts a watchdog thread and calls ``stopper``; if
    the process is still alive ``grace_s`` later, the watchdog runs the cleanups, ends our child
    processes and calls ``hard_exit``. With no stopper (not started yet, or already stopped), or for
    a signal in ``at_once``, the cleanups run and the process exits at once.
    """

    def __init__(
        self,
        grace_s: float = GRACE_S,
        hard_exit: Callable[[int], None] = os._exit,
        at_once: Collection[int] = (),
    ) -> None:
        self.grace_s = grace_s
        self.at_once = frozenset(at_once)
        """Signals that skip the graceful stop (the TUI's SIGHUP: nobody is left to see it)."""
        self.stopper: Stopper | None = None
        """Called once, in the main thread, with the first signal's number (from a signal handler)."""
        self.signum: int | None = None
        """The first signal received, if any."""
        self._hard_exit = hard_exit
        self._cleanups: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.watchdog: threading.Thread | None = None
        """The thread that ends the process if the graceful stop overruns (once a signal came)."""

    def add_cleanup(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` (fast, synchronous, idempotent) if the process has to be ended by force."""
        self._cleanups.append(cleanup)

    def install(self) -> None:
        """Handle SIGHUP and SIGTERM from now on (main thread only)."""
        for signum in SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop(signum)

    def stop(self, signum: int) -> None:
        """Begin stopping because of ``signum``; further signals change nothing (the bound is running)."""
        with self._lock:
            if self.signum is not None:
                return
            self.signum = signum
        stopper = self.stopper
        if stopper is None or signum in self.at_once:
            self._force(signum)
            return
        self.watchdog = threading.Thread(
            target=self._watch, args=(signum,), name="agent-tui-exit-watchdog", daemon=True
        )
        self.watchdog.start()
        try:
            stopper(signum)
        except Exception:  # a broken graceful path must not keep the process alive: force now
            self._force(signum)

    def _watch(self, signum: int) -> None:
        # The process normally exits before this wait ends, taking this daemon thread with it.
        threading.Event().wait(self.grace_s)
        self._force(signum)

    def _force(self, signum: int, code: int | None = None) -> None:
        # Never blocks: this may run in the watchdog while the main thread is stuck holding a lock.
        for cleanup in self._cleanups:
            with contextlib.suppress(Exception):
                cleanup()
        end_children()
        self._hard_exit(128 + signum if code is None else code)

    def exit_if_stopped(self, code: int | None = None) -> None:
        """After a signal-driven stop has cleaned up: end the process now, with ``code`` (``128 + signum``).

        Interpreter teardown joins threads and flushes streams, and either can wait forever on a
        terminal or pipe that stopped reading; a process stopped by a signal skips it (the watchdog
        still bounds the flush done here). Does nothing when no signal came.
        """
        if self.signum is None:
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        self._force(self.signum, code)


def end_children(signum: int = signal.SIGTERM) -> None:
    """Send ``signum`` to every direct child process (ssh sources and the like), Linux only."""
    for pid in _children():
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def _children() -> Iterator[int]:
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                yield from (int(pid) for pid in (task / "children").read_text().split())


def remove_tree(path: str | os.PathLike[str], attempts: int = 5) -> None:
    """Remove ``path`` and everything below it, retrying while a late writer adds files."""
    for _ in range(attempts):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return


def run_until_signal(main: Coroutine[Any, Any, T], guard: ExitGuard) -> T | None:
    """``asyncio.run(main)`` that SIGHUP/SIGTERM cancel; ``main``'s ``finally`` blocks close what it opened.

    Returns ``main``'s result, or None when a signal cancelled it. ``guard`` must be installed; its
    watchdog bounds the whole stop, event-loop teardown included.
    """

    async def runner() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            guard.stopper = lambda _signum: _cancel(loop, task)
        try:
            return await main
        finally:
            guard.stopper = None

    try:
        return asyncio.run(runner())
    except asyncio.CancelledError:
        if guard.signum is None:
            raise
        return None


def _cancel(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    loop.call_soon_threadsafe(task.cancel)
