"""Textual's Linux driver, made unable to hang on a terminal that has gone away."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import queue
import select
import signal
import termios
import threading
import time
from functools import partial
from typing import IO, TYPE_CHECKING, Any, Final

from textual.drivers.linux_driver import LinuxDriver

from agent_tui.shutdown import ExitGuard

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["TerminalDriver", "bind_exit_guard"]

WRITE_POLL_S: Final = 0.05
"""How often a write waiting for room in the output queue checks whether the terminal is gone."""
GOODBYE_S: Final = 0.5
"""How long the closing escape sequences may wait for a live but slow terminal."""
HANGUP_POLL_MS: Final = 250
_HANGUP_EVENTS: Final = select.POLLHUP | select.POLLERR | select.POLLNVAL
_RESET: Final = (
    b"\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?2004l"
)
"""What stop_application_mode writes: leave the alternate screen, show the cursor, stop reporting."""


class _TerminalFile:
    """The terminal as the writer thread sees it: a failed write means the terminal is gone.

    Textual's writer thread dies on the first ``EIO`` from a hung-up terminal; its queue then fills
    and the next write blocks the app forever. Here errors are swallowed and everything after is
    dropped, so the thread keeps draining and can always be stopped.
    """

    def __init__(self, file: IO[str], gone: threading.Event) -> None:
        self._file = file
        self._gone = gone

    def write(self, text: str) -> int:
        if not self._gone.is_set():
            try:
                self._file.write(text)
            except (OSError, ValueError):
                self._gone.set()
        return len(text)

    def flush(self) -> None:
        if not self._gone.is_set():
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._gone.set()

    def fileno(self) -> int:
        return self._file.fileno()


class TerminalDriver(LinuxDriver):
    """A :class:`LinuxDriver` whose writes and shutdown never wait on a vanished terminal.

    - writes wait for the output queue only while the terminal is there; once it is gone (a write
      failed, a hang-up was seen, or :meth:`stop_writing_after` expired) they are dropped;
    - a SIGCONT we did not suspend for (the kernel sends one with the hang-up) does not restart
      application mode, which would start a second writer thread on the dead terminal;
    - a thread watches the terminal for a hang-up or end of input and raises SIGHUP, so the app's
      signal path ends the process even when no signal was delivered.
    """

    def __init__(
        self, app: App[Any], *, debug: bool = False, mouse: bool = True, size: tuple[int, int] | None = None
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self.gone = threading.Event()
        """Set once the terminal is known to be gone: nothing more is written to it."""
        self._write_deadline = math.inf
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None
        if self._file is not None:
            self._file = _TerminalFile(self._file, self.gone)  # type: ignore[assignment]

    def hang_up(self) -> None:
        """The terminal is gone: drop every write from now on and stop reading keys."""
        self.gone.set()
        # Textual's input thread would otherwise spin on the dead tty's end of input, taking the GIL
        # from the shutdown; with this set it ends within its 0.1 s select.
        self.exit_event.set()

    def stop_writing_after(self, seconds: float) -> None:
        """Writes that cannot be queued within ``seconds`` from now are dropped (the app is ending)."""
        self._write_deadline = min(self._write_deadline, time.monotonic() + seconds)

    def write(self, data: str) -> None:
        """Queue ``data`` for the terminal, or drop it when the terminal is gone."""
        self._put(data)

    def _put(self, data: str | None) -> bool:
        writer = self._writer_thread
        while writer is not None and not self.gone.is_set():
            try:
                # Textual's queue (bounded to 30 writes): waited on in slices so a hang-up is noticed.
                writer._queue.put(data, timeout=WRITE_POLL_S)
                return True
            except queue.Full:
                if not writer.is_alive() or time.monotonic() >= self._write_deadline:
                    self.gone.set()
        return False

    def start_application_mode(self) -> None:
        """Start as Textual does (also on resuming after ctrl+z), then watch the terminal for a hang-up."""
        super().start_application_mode()  # type: ignore[no-untyped-call]
        self._closed.clear()
        self._write_deadline = math.inf
        if self._writer_thread is not None and (self._watcher is None or not self._watcher.is_alive()):
            self._watcher = threading.Thread(target=self._watch_hangup, name="agent-tui-hangup", daemon=True)
            self._watcher.start()

    def _watch_hangup(self) -> None:
        poller = select.poll()
        poller.register(self.fileno, _HANGUP_EVENTS)
        while not self._closed.is_set():
            try:
                events = poller.poll(HANGUP_POLL_MS)
            except OSError:
                events = [(self.fileno, select.POLLERR)]
            if any(mask & _HANGUP_EVENTS for _fd, mask in events):
                self.hang_up()
                if not self._closed.is_set():
                    os.kill(os.getpid(), signal.SIGHUP)
                return

    def _sigcont_application(self, *args: object) -> None:
        # Resume only after our own suspend (Ctrl+Z): a hang-up also delivers SIGCONT.
        if self._must_signal_resume and not self.gone.is_set():
            super()._sigcont_application(*args)

    def close(self) -> None:
        """Stop the writer thread, waiting for a slow terminal only briefly and for a gone one not at all."""
        self._closed.set()
        writer = self._writer_thread
        if writer is None:
            return
        self.stop_writing_after(GOODBYE_S)
        if self._put(None):
            writer.join(GOODBYE_S)

    def restore_now(self) -> None:
        """Last resort from any thread: terminal modes back and the alternate screen left, never blocking."""
        self._closed.set()
        if self.attrs_before is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self.fileno, termios.TCSANOW, self.attrs_before)
        if self.gone.is_set() or self._file is None:
            return
        with contextlib.suppress(OSError, ValueError):
            fd = self._file.fileno()
            # Non-blocking for this one write only: the flag is shared with the shell we return to.
            os.set_blocking(fd, False)
            try:
                os.write(fd, _RESET)
            finally:
                os.set_blocking(fd, True)


def bind_exit_guard(app: App[Any], guard: ExitGuard) -> None:
    """From now on SIGHUP/SIGTERM stop ``app`` like q; the guard's last resort restores its terminal."""
    guard.stopper = partial(_stop_app, app, asyncio.get_running_loop())
    guard.add_cleanup(partial(_restore_terminal, app))


def _stop_app(app: App[Any], loop: asyncio.AbstractEventLoop, signum: int) -> None:
    # Runs in a signal handler, maybe while the loop is stuck in a write: flip flags, schedule the exit.
    driver = app._driver
    if isinstance(driver, TerminalDriver):
        if signum == signal.SIGHUP:
            driver.hang_up()
        else:
            driver.stop_writing_after(GOODBYE_S)
    loop.call_soon_threadsafe(app.exit)


def _restore_terminal(app: App[Any]) -> None:
    driver = app._driver
    if isinstance(driver, TerminalDriver):
        driver.restore_now()
