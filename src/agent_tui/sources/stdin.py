"""Standard input (``-``) as a source: ``journalctl -f -o json | agent-tui -``.

Pipes, sockets and terminals are read through the event loop (``connect_read_pipe`` on a duplicate of the
descriptor, so closing the source never closes the process's stdin); regular files redirected to stdin and
injected streams without a descriptor are read on a worker thread, which never blocks for long on them.
Batches carry no offsets: a pipe cannot be re-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import stat
import sys
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import BinaryIO

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.lines import LineSplitter

__all__ = ["StdinSource"]

_CLOSE_WAIT_S = 5.0


class StdinSource:
    """Lines from a binary stream (``sys.stdin.buffer`` by default), read without blocking the loop."""

    def __init__(
        self,
        stream: BinaryIO | None = None,
        *,
        name: str = "-",
        read_size: int = 1 << 20,
        owns_stream: bool = False,
    ) -> None:
        """Wrap ``stream``; nothing is read until :meth:`stream` is iterated.

        Args:
            stream: A binary stream; defaults to ``sys.stdin.buffer``.
            name: The source name stamped on every batch.
            read_size: Largest chunk read at once.
            owns_stream: Close ``stream`` when the source ends (for pipes we opened, e.g. a FIFO path).
        """
        self.name = name
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._owns_stream = owns_stream
        self._read_size = read_size
        self._stop = asyncio.Event()
        self._transport: asyncio.ReadTransport | None = None
        self._restore: tuple[int, bool] | None = None
        self._finished = asyncio.Event()
        self._gen: AsyncGenerator[LineBatch | SourceStatus, None] | None = None

    def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Yield batches until end of input or :meth:`close`; may be called once."""
        if self._gen is not None:
            raise RuntimeError("stdin: stream() was already called")
        self._gen = self._run()
        return self._gen

    async def close(self) -> None:
        """Stop reading and release what we opened; the process's stdin itself stays open.

        A consumer that keeps iterating gets the held partial line and a DONE status, then the end.
        """
        self._stop.set()
        if self._transport is not None:
            self._transport.close()
        self._restore_blocking()
        gen = self._gen
        if gen is not None and getattr(gen, "ag_running", False):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_WAIT_S):
                    await self._finished.wait()
        elif self._owns_stream:
            self._stream.close()

    def _restore_blocking(self) -> None:
        # The duplicate shares the open file description, so O_NONBLOCK leaked onto the original.
        restore, self._restore = self._restore, None
        if restore is not None:
            with contextlib.suppress(OSError):
                os.set_blocking(*restore)

    async def _run(self) -> AsyncGenerator[LineBatch | SourceStatus, None]:
        try:
            async with aclosing(self._lines()) as items:
                async for item in items:
                    yield item
        finally:
            if self._owns_stream:
                self._stream.close()
            self._finished.set()

    async def _lines(self) -> AsyncGenerator[LineBatch | SourceStatus, None]:
        yield SourceStatus(self.name, SourceState.READING)
        split = LineSplitter()
        pos = 0
        try:
            async with aclosing(self._chunks()) as chunks:
                async for chunk in chunks:
                    lines, _ = split.feed(chunk, pos)
                    pos += len(chunk)
                    if lines:
                        yield LineBatch(self.name, lines)
        except OSError as exc:
            yield SourceStatus(self.name, SourceState.ERROR, f"stdin: {exc.strerror or exc}")
        last, _ = split.flush()
        if last:
            yield LineBatch(self.name, last)
        yield SourceStatus(self.name, SourceState.DONE, "closed" if self._stop.is_set() else "end of input")

    def _chunks(self) -> AsyncGenerator[bytes, None]:
        fd = _fileno(self._stream)
        if fd is not None and not stat.S_ISREG(os.fstat(fd).st_mode) and _pollable(fd):
            return self._pipe_chunks(fd)
        return self._thread_chunks(fd)

    async def _pipe_chunks(self, fd: int) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        self._restore = (fd, os.get_blocking(fd))
        reader = asyncio.StreamReader(limit=self._read_size, loop=loop)
        pipe = os.fdopen(os.dup(fd), "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        self._transport = transport
        try:
            while not self._stop.is_set():
                chunk = await reader.read(self._read_size)
                if not chunk:
                    return
                yield chunk
        finally:
            transport.close()
            self._restore_blocking()

    async def _thread_chunks(self, fd: int | None) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        stream = self._stream
        size = self._read_size

        def read() -> bytes:
            if fd is not None:
                return os.read(fd, size)
            read1 = getattr(stream, "read1", None)
            return bytes(read1(size) if read1 is not None else stream.read(size))

        while not self._stop.is_set():
            chunk = await loop.run_in_executor(None, read)
            if not chunk:
                return
            yield chunk


def _pollable(fd: int) -> bool:
    """Whether the event loop can wait on ``fd`` (a pipe, socket or tty; not ``/dev/null``)."""
    selector = selectors.DefaultSelector()
    try:
        selector.register(fd, selectors.EVENT_READ)
    except (OSError, ValueError):
        return False
    finally:
        selector.close()
    return True


def _fileno(stream: BinaryIO) -> int | None:
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None
