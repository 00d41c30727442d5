"""Byte-writing handlers: JSONL to a file with one ``os.write`` per record, and to a stream."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import IO, Final

from agent_tui.log.formatter import JsonFormatter

__all__ = ["OWNED_ATTR", "JsonStreamHandler", "JsonlFileHandler", "renderer_for"]

OWNED_ATTR: Final = "_agent_tui_owned"
"""Set on handlers ``setup_logging`` installs, so a second call replaces them instead of adding more."""


def renderer_for(formatter: logging.Formatter | None) -> Callable[[logging.LogRecord], bytes]:
    """A function rendering a record to one ``\\n``-terminated UTF-8 line with ``formatter``."""
    if isinstance(formatter, JsonFormatter):
        return formatter.format_bytes
    fmt = formatter or logging.Formatter()

    def render(record: logging.LogRecord) -> bytes:
        return fmt.format(record).encode("utf-8", "replace") + b"\n"

    return render


class JsonlFileHandler(logging.Handler):
    """Appends each record as one JSON line with a single ``os.write`` on an ``O_APPEND`` descriptor.

    The kernel appends each ``write`` atomically at the end of the file, so several threads or processes
    sharing the file never interleave partial lines and the handler needs no lock on the write path.
    """

    def __init__(
        self, path: str | os.PathLike[str], formatter: logging.Formatter | None = None, level: int = 0
    ) -> None:
        """Open (create) ``path`` for appending; ``formatter`` defaults to a :class:`JsonFormatter`."""
        super().__init__(level)
        self.path = os.fspath(path)
        self.setFormatter(formatter or JsonFormatter())
        self._fd = self._open()

    def _open(self) -> int:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        """Set the formatter and cache its byte renderer."""
        super().setFormatter(fmt)
        self._render = renderer_for(fmt)

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit without taking the handler lock (the write itself is atomic)."""
        if self.filters:
            result = self.filter(record)
            if not result:
                return False
            if isinstance(result, logging.LogRecord):
                record = result
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record; errors go to ``handleError``, never to the caller."""
        try:
            line = self._render(record)
            size = len(line)
            fd = self._fd
            written = os.write(fd, line)
            while written < len(line):
                line = line[written:]
                written = os.write(fd, line)
            self._written(size, record)
        except Exception:
            self.handleError(record)

    def _written(self, size: int, record: logging.LogRecord) -> None:
        """Hook for subclasses that rotate; called after each successful write."""

    def close(self) -> None:
        """Close the descriptor (idempotent)."""
        self.acquire()
        try:
            fd, self._fd = self._fd, -1
            if fd >= 0:
                os.close(fd)
        finally:
            self.release()
        super().close()


class JsonStreamHandler(logging.Handler):
    """Writes each record as one line to a text stream (``sys.stdout`` by default) and flushes it."""

    def __init__(self, stream: IO[str] | None = None, formatter: logging.Formatter | None = None) -> None:
        """Write to ``stream`` (default ``sys.stdout``, looked up at emit time so redirection works)."""
        super().__init__()
        self._stream = stream
        self.setFormatter(formatter or JsonFormatter())

    @property
    def stream(self) -> IO[str]:
        """The stream records go to."""
        return self._stream if self._stream is not None else sys.stdout

    def emit(self, record: logging.LogRecord) -> None:
        """Format and write one line; errors go to ``handleError``."""
        try:
            fmt = self.formatter
            if isinstance(fmt, JsonFormatter):
                text = fmt.format_bytes(record).decode("utf-8", "replace")
            else:
                text = self.format(record) + "\n"
            stream = self.stream
            stream.write(text)
            stream.flush()
        except Exception:
            self.handleError(record)
