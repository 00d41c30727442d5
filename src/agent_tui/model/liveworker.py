"""The live parse worker process: parse each request with its source's parser until the app closes the pipe.

Run as ``python -m agent_tui.model.liveworker`` by ``liveparse.ParseWorker``: requests on stdin, answers on
stdout, each a frame of a 4-byte big-endian length and its bytes. It imports only the parser (no asyncio,
no multiprocessing), so it stays small.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import threading
from typing import Any, Final

from agent_tui.model.livebatch import SideValues, parse_shipped, resume_parser, side_parser
from agent_tui.model.parsing.parse import LineParser
from agent_tui.model.parsing.workers import Collector

__all__ = ["COLLECT_EVERY", "main", "serve"]

COLLECT_EVERY: Final = 64
"""Requests (of up to 2 048 lines) between garbage collections."""
_FRAME: Final = struct.Struct("!i")
_READ_MAX: Final = 1 << 20


def read_frame(fd: int) -> bytes:
    """The next frame's bytes (EOFError once the other end closed)."""
    (size,) = _FRAME.unpack(_read_exact(fd, _FRAME.size))
    return _read_exact(fd, size)


def _read_exact(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        data = os.read(fd, min(size, _READ_MAX))
        if not data:
            raise EOFError
        chunks.append(data)
        size -= len(data)
    return b"".join(chunks)


def write_frame(fd: int, payload: bytes) -> None:
    """Write one frame (blocking until the pipe took it all)."""
    data = memoryview(_FRAME.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


def serve(requests: int, answers: int) -> None:
    """Answer requests read from descriptor ``requests`` on descriptor ``answers`` until end of input."""
    overrides, analysis = pickle.loads(read_frame(requests))  # noqa: S301 -- from our parent
    write_frame(answers, pickle.dumps(os.getpid()))
    parsers: dict[int, LineParser] = {}
    side = SideValues(analysis=analysis)
    seen: dict[Any, Any] = {}
    collector = Collector(COLLECT_EVERY)
    inbox: queue.SimpleQueue[tuple[bytes, bytes] | None] = queue.SimpleQueue()
    # Requests are read ahead on a thread: the pipe holds under two of them, and the app writes only
    # between its own steps, so reading them only between batches here would leave this process idle.
    threading.Thread(target=_read_ahead, args=(requests, inbox), daemon=True).start()
    while (request := inbox.get()) is not None:
        header, raw = request
        ticket, source, state, joined, with_side = pickle.loads(header)  # noqa: S301 -- from our parent
        lines = raw.split(b"\n") if joined else pickle.loads(raw)  # noqa: S301 -- from our parent
        parser = parsers.get(source)
        if parser is None or state is not None:
            parser = parsers[source] = side_parser(overrides)
            if state is not None:
                resume_parser(parser, state)
        answer = (ticket, parse_shipped(parser, side if with_side else None, lines, seen))
        write_frame(answers, pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))
        collector.job_done()


def _read_ahead(requests: int, inbox: queue.SimpleQueue[tuple[bytes, bytes] | None]) -> None:
    try:
        while True:
            inbox.put((read_frame(requests), read_frame(requests)))
    except (EOFError, OSError):
        inbox.put(None)


def main() -> None:
    """Entry point: requests on stdin, answers on stdout (both moved aside so stray output cannot
    corrupt the answers)."""
    requests, answers = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    serve(requests, answers)


if __name__ == "__main__":
    main()
