"""Index the history of a file in worker processes on a thread, handing parsed batches out in file order."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping

from agent_tui.model.parsing.loader import Shipped, byte_ranges, parse_piece
from agent_tui.model.parsing.workers import Workers

__all__ = ["HistoryLoad", "prepare_workers"]

HISTORY_PIECE_BYTES = 1 << 20
"""Each answer is unpickled holding the GIL, and the UI waits. Since the compiled scanner halved the
workers' time, answers come twice as often: 2 MiB pieces then gave key -> redraw p95 83-145 ms (median
of six 118) while a 1 M-line history loads, 1 MiB ones 65-101 ms (median of five 83), for a full index
5-10 % later (bench_tui's key row, compact, runs alternating at load 2-2.7)."""
_POLL_S = 0.1
"""How often the loading thread looks up from a worker's answer to see whether it was cancelled."""
_JOIN_S = 5.0
_SWITCH_S = 0.001
"""The interpreter's thread switch interval while history loads (see ``HistoryLoad._parse``)."""
WORKER_NICENESS = 10
"""Workers yield the CPU to the process drawing the screen: keys and redraws stay quick during the load."""


def _context() -> multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext:
    # The caller runs threads (the TUI), so fork is unsafe; the forkserver forks workers from a clean
    # single-threaded process that has the parser imported already.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["agent_tui.model.parsing.loader"])
        return context
    return multiprocessing.get_context("spawn")


def prepare_workers() -> None:
    """Start multiprocessing's helper processes now, while ``sys.stderr`` is still the real one.

    They are handed stderr's descriptor when they start; under a running Textual app ``sys.stderr`` is
    a capture object without one, and starting a pool there fails. Both helpers exit with this process.
    """
    from multiprocessing import forkserver, resource_tracker  # noqa: PLC0415 -- only when history loads

    resource_tracker.ensure_running()
    if _context().get_start_method() == "forkserver":
        forkserver.ensure_running()


class HistoryLoad:
    """Parse ``path[0:end)`` in a pool of worker processes, on a thread of its own.

    ``take`` hands the parsed batches out in file order, to be folded into a model by its one owner;
    ``wake`` is called (from the loading thread) whenever batches are ready or the load ended.
    ``cancel`` stops the workers at once (they are terminated, never left behind).

    Args:
        path: The file.
        end: Where its history ends (a line start: the first byte the caller reads itself).
        overrides: ``--field ROLE=KEY`` overrides for the parser.
        workers: How many processes parse at once.
        wake: Called from the loading thread when there is something to take.
        piece_bytes: Size of the byte ranges handed to workers.
        file_id: ``dev:inode`` of the file meant; a different file at ``path`` (rotated away before
            the load started) is an error, and a rotation during the load does not matter: workers
            read the file through this process's descriptor (``/proc/PID/fd/N``) where there is one.
    """

    def __init__(
        self,
        path: str,
        end: int,
        *,
        overrides: Mapping[str, str] | None = None,
        workers: int | None = None,
        wake: Callable[[], object] = lambda: None,
        piece_bytes: int = HISTORY_PIECE_BYTES,
        file_id: str = "",
    ) -> None:
        self.path = path
        self.end = end
        self.file_id = file_id
        """``dev:inode`` the file must have (empty: whatever is at ``path``)."""
        self.workers = workers or max(1, min(os.cpu_count() or 1, 4))
        self.error = ""
        """Why the load failed (empty while it goes well)."""
        self._overrides = dict(overrides) if overrides else None
        self._wake = wake
        self._piece_bytes = piece_bytes
        self._ready: deque[Shipped] = deque()
        self._parsed_bytes = 0
        self._finished = threading.Event()
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"history {path}", daemon=True)

    def start(self) -> None:
        """Start the loading thread (and, through it, the worker processes)."""
        self._thread.start()

    @property
    def started(self) -> bool:
        """True once ``start`` was called."""
        return self._thread.ident is not None

    @property
    def parsed_bytes(self) -> int:
        """Bytes of history parsed so far."""
        return self._parsed_bytes

    @property
    def finished(self) -> bool:
        """True once every piece is parsed (or the load failed or was cancelled)."""
        return self._finished.is_set()

    @property
    def ready(self) -> bool:
        """True when ``take`` has a batch to give."""
        return bool(self._ready)

    @property
    def drained(self) -> bool:
        """True once the load finished and every batch was taken."""
        return self._finished.is_set() and not self._ready

    def take(self) -> Shipped | None:
        """The next parsed batch in file order, or None when none is ready yet."""
        try:
            return self._ready.popleft()
        except IndexError:
            return None

    def cancel(self) -> None:
        """Stop: terminate the workers and wait for the loading thread to end."""
        self._cancelled.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(_JOIN_S)

    def _run(self) -> None:
        fd = -1
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            st = os.fstat(fd)
            if self.file_id and f"{st.st_dev}:{st.st_ino}" != self.file_id:
                self.error = f"{self.path}: rotated before its history was read; history left out"
                return
            held = f"/proc/{os.getpid()}/fd/{fd}"
            path = held if os.path.exists(held) else self.path
            ranges = byte_ranges(path, self.end, self._piece_bytes) if self.end > 0 else []
            if ranges:
                self._parse(path, ranges)
        except Exception as exc:  # a vanished or unreadable file ends the load, reported, not raised
            self.error = f"{self.path}: {type(exc).__name__}: {exc}"
        finally:
            if fd >= 0:
                os.close(fd)
            self._finished.set()
            self._wake()

    def _parse(self, path: str, ranges: list[tuple[int, int]]) -> None:
        jobs = [(path, start, stop, self._overrides) for start, stop in ranges]
        pool = Workers(parse_piece, min(self.workers, len(jobs)), _context(), WORKER_NICENESS)
        done = False
        switch = sys.getswitchinterval()
        # This thread takes each answer in holding the GIL two or three times, each time after the
        # thread folding the batches lets it go: at the default 5 ms the workers waited for their
        # answers to be taken (full index on 1 M lines 2.88-2.98 -> 2.70-2.75 s at 1 ms).
        sys.setswitchinterval(_SWITCH_S)
        try:
            queue = deque(jobs)
            owners: deque[int] = deque()  # the worker of each piece given out, in file order
            for start, stop in ranges:
                while queue and pool.hungry:
                    owners.append(pool.give(queue.popleft()))
                w = owners.popleft()
                while not pool.ready(w, _POLL_S):
                    if self._cancelled.is_set():
                        return
                self._ready.extend(pool.take(w))
                self._parsed_bytes += stop - start
                self._wake()
            done = True
        finally:
            sys.setswitchinterval(switch)
            if done:
                pool.close()
            else:
                pool.kill()
