"""Parse live batches in a worker process: per-source parser state carried along, answers in order."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import pickle
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from agent_tui.model.livebatch import LiveParsed, ParserState, unship

__all__ = ["ParseWorker"]

_SETPIPE_SZ: Final = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_PIPE_BYTES: Final = 1 << 20
"""Pipe capacity asked for (Linux's default limit for an unprivileged process): about 1.7 requests of
2 048 lines, or 9 answers."""
_WRITEV_MAX: Final = 64
"""Pieces per ``writev`` (well under the system's IOV_MAX)."""
_WAIT_S: Final = 0.5
"""How long ``close`` waits for the terminated worker before killing it."""


class ParseWorker:
    """One worker process parsing live batches for the app, started on demand, ended with the app.

    Requests and answers travel over two pipes served by the caller's event loop (no threads: a thread
    waking up waits for the interpreter lock while the app folds, and the worker waits with it);
    ``submit`` never blocks (what the pipe cannot take now is written when it can), ``wake`` is called
    when answers arrived, ``result`` hands an answer out by ticket. The process (``liveworker``) reads
    requests from its stdin and exits when that closes, so it ends with the app even when the app is
    killed; it runs in a session of its own, away from the terminal's signals; ``close`` terminates it.

    Args:
        overrides: ``--field ROLE=KEY`` overrides (the parsers' options, as the app's).
        analysis: work out signals (as the app's model does).
        wake: called (on the loop) when answers arrived or the worker ended.
        command: how to start the worker.
    """

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        *,
        analysis: bool = True,
        wake: Callable[[], object] = lambda: None,
        command: Sequence[str] = (sys.executable, "-m", "agent_tui.model.liveworker"),
    ) -> None:
        self._config = (dict(overrides) if overrides else None, analysis)
        self._wake = wake
        self._command = list(command)
        self._answers: dict[int, LiveParsed] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._request_fd = -1
        self._answer_fd = -1
        self._out: deque[memoryview] = deque()
        self._writing = False
        self._in = bytearray()
        self._started = False
        self._ended = False
        self.pid = 0
        """The worker's process id once it answered (0 before)."""

    @property
    def started(self) -> bool:
        """True once ``start`` was called."""
        return self._started

    @property
    def ready(self) -> bool:
        """True while the worker is up and answering."""
        return self.pid != 0 and not self._ended

    @property
    def ended(self) -> bool:
        """True once the worker is gone (closed, or it died): answers still missing will not come."""
        return self._ended

    def start(self) -> None:
        """Start the process, from the running loop (``ready`` turns true once it answers)."""
        self._started = True
        self._loop = asyncio.get_running_loop()
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        try:
            self._proc = subprocess.Popen(
                self._command,
                stdin=request_r,
                stdout=answer_w,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            os.close(request_w)
            os.close(answer_r)
            self._ended = True
            return
        finally:
            os.close(request_r)
            os.close(answer_w)
        for fd in (request_w, answer_r):
            os.set_blocking(fd, False)
            with contextlib.suppress(OSError):
                # Room for a few batches and answers: neither side waits for the other's next turn.
                fcntl.fcntl(fd, _SETPIPE_SZ, _PIPE_BYTES)
        self._request_fd, self._answer_fd = request_w, answer_r
        self._loop.add_reader(answer_r, self._readable)
        self._send(pickle.dumps(self._config, pickle.HIGHEST_PROTOCOL))

    def submit(
        self, ticket: int, source: int, state: ParserState | None, lines: list[bytes], *, side: bool = True
    ) -> None:
        """Send ``lines`` of ``source`` to be parsed; ``state`` (if given) restarts its parser from it;
        ``side``: work out sums and signals too (else the answer leaves them to the app)."""
        blob = b"\n".join(lines)
        # The lines go joined, as a frame of raw bytes: a pickled list costs about 1 us a line each way.
        # A line holding a newline itself (a re-joined record) makes it a pickled list.
        joined = blob.count(b"\n") == len(lines) - 1
        try:
            header = pickle.dumps((ticket, source, state, joined, side), pickle.HIGHEST_PROTOCOL)
        except Exception:  # state that cannot travel (a parser grew an unpicklable attribute)
            # The app then parses on its own: batches in flight are re-parsed from the last state back.
            self.close()
            return
        self._send(header, blob if joined else pickle.dumps(lines, pickle.HIGHEST_PROTOCOL))

    def result(self, ticket: int) -> LiveParsed | None:
        """The answer for ``ticket`` once it arrived (handed out once), else None."""
        return self._answers.pop(ticket, None)

    def has(self, ticket: int) -> bool:
        """True when the answer for ``ticket`` arrived."""
        return ticket in self._answers

    def _send(self, *frames: bytes) -> None:
        """Write ``frames`` (framed as ``liveworker.read_frame`` reads them), keeping
        what the pipe cannot take now for the loop to write later."""
        if self._ended:
            return
        for frame in frames:
            self._out.append(memoryview(struct.pack("!i", len(frame))))
            self._out.append(memoryview(frame))
        self._writable()

    def pump(self) -> None:
        """Move what the pipes can take now, without waiting: the app calls this between batches, so
        the worker is fed (and answers are read) while a long fold keeps the loop from its callbacks."""
        if self._out:
            self._writable()
        while self._answer_fd >= 0 and self._readable():
            pass

    def _writable(self) -> None:
        """Write queued pieces (no copy: pieces are views, a partly written one is sliced)."""
        out = self._out
        try:
            written = os.writev(self._request_fd, list(itertools.islice(out, _WRITEV_MAX))) if out else 0
        except BlockingIOError:
            written = 0
        except OSError:
            self._end()
            return
        while written:
            piece = out[0]
            if written < len(piece):
                out[0] = piece[written:]
                break
            written -= len(piece)
            out.popleft()
        assert self._loop is not None
        if bool(out) != self._writing:
            self._writing = bool(out)
            if self._writing:
                self._loop.add_writer(self._request_fd, self._writable)
            else:
                self._loop.remove_writer(self._request_fd)

    def _readable(self) -> bool:
        """Read and take in what answers arrived; True when the pipe had data."""
        try:
            data = os.read(self._answer_fd, _PIPE_BYTES)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self._end()
            return False
        buffer = self._in
        buffer += data
        start = 0
        while len(buffer) - start >= 4:
            (size,) = struct.unpack_from("!i", buffer, start)
            if len(buffer) - start - 4 < size:
                break
            with memoryview(buffer) as view:
                # Our own child process, started from our own interpreter, is the only writer.
                self._answer(pickle.loads(view[start + 4 : start + 4 + size]))  # noqa: S301
            start += 4 + size
        del buffer[:start]
        if start:
            self._wake()
        return True

    def _answer(self, message: Any) -> None:
        if isinstance(message, int):
            self.pid = message
            return
        ticket, (shipped, sums, signals, state) = message
        self._answers[ticket] = LiveParsed(None if shipped is None else unship(shipped), sums, signals, state)

    def _end(self) -> None:
        """The worker is gone (or going): stop serving its pipes."""
        if self._ended:
            return
        self._ended = True
        loop = self._loop
        for fd in (self._request_fd, self._answer_fd):
            if fd < 0:
                continue
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(Exception):  # the loop may be another thread's, or stopping
                    loop.remove_reader(fd)
                    loop.remove_writer(fd)
            os.close(fd)
        self._request_fd = self._answer_fd = -1
        self._wake()

    def close(self) -> None:
        """End the worker: terminate it and reap it (idempotent, bounded)."""
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.terminate()
        try:
            proc.wait(_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._loop is not None and _on_loop(self._loop):
            self._end()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """True when called from ``loop``'s own thread."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
