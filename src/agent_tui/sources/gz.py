"""Read a gzip-compressed log (a rotated ``agent.jsonl.2.gz``) as history.

Offsets in the batches are positions in the *decompressed* stream; ``path`` ends in ``.gz`` and
``file_id`` is the ``dev:inode`` of the compressed file, so a reader re-reading a line by offset knows it
has to decompress up to that offset.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.lines import LineSplitter
from agent_tui.sources.tail import Item

__all__ = ["GZIP_MAGIC", "GzReader", "is_gzip"]

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str) -> bool:
    """True when ``path`` ends in ``.gz`` and starts with the gzip magic bytes."""
    if not path.endswith(".gz"):
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == GZIP_MAGIC
    except OSError:
        return False


class GzReader:
    """Decompresses one ``.gz`` file into line batches; history only, it never follows."""

    def __init__(
        self,
        path: str,
        name: str,
        *,
        lines: int | None = None,
        read_size: int = 1 << 20,
        announce: bool = True,
    ) -> None:
        """Create a reader; nothing is opened until the first poll.

        Args:
            path: The compressed file.
            name: The source name stamped on every batch.
            lines: ``None`` reads everything, ``N`` only the last N lines, 0 nothing.
            read_size: Decompressed bytes per batch.
            announce: Emit READING/DONE statuses (errors are always reported).
        """
        self.path = path
        self.name = name
        self.done = False
        self._lines = lines
        self._read_size = read_size
        self._announce = announce
        self._gz: gzip.GzipFile | None = None
        self._ident = (0, 0)
        self._file_id = ""
        self._pos = 0
        self._skip_to = 0
        self._split = LineSplitter()

    def open_idents(self) -> set[tuple[int, int]]:
        """``(dev, inode)`` of the compressed file while it is open."""
        return {self._ident} if self._gz is not None else set()

    @property
    def caught_up(self) -> bool:
        """True once the whole file is read."""
        return self.done

    def poll(self, budget: int, out: list[Item]) -> int:
        """Decompress up to ``budget`` bytes into batches; at the end flush and report DONE."""
        if self.done:
            return 0
        if self._lines == 0:
            self.done = True
            if self._announce:
                out.append(SourceStatus(self.name, SourceState.DONE))
            return 0
        if self._gz is None and not self._open(out):
            return 0
        gz = self._gz
        assert gz is not None
        used = 0
        try:
            while used < budget:
                data = gz.read(min(self._read_size, budget - used))
                if not data:
                    self._finish(out, None)
                    break
                used += len(data)
                self._take(data, out)
        except (OSError, EOFError, zlib.error) as exc:
            self._finish(out, exc)
        return used

    def flush(self, out: list[Item]) -> None:
        """Emit the held partial line as a final line."""
        self._emit(*self._split.flush(), out)

    def close(self) -> None:
        """Close the compressed file."""
        if self._gz is not None:
            self._gz.close()
            self._gz = None
        self.done = True

    def _open(self, out: list[Item]) -> bool:
        try:
            gz = self._gzip_open()
            st = os.fstat(gz.fileno())
            if self._lines is not None:
                self._skip_to = self._skip_offset(self._lines)
        except (OSError, EOFError, zlib.error) as exc:
            out.append(SourceStatus(self.name, SourceState.ERROR, f"{self.path}: {exc}"))
            self.done = True
            return False
        self._gz = gz
        self._ident = (st.st_dev, st.st_ino)
        self._file_id = f"{st.st_dev}:{st.st_ino}"
        if self._announce:
            out.append(SourceStatus(self.name, SourceState.READING))
        return True

    def _gzip_open(self) -> gzip.GzipFile:
        return gzip.GzipFile(filename=self.path, mode="rb")

    def _skip_offset(self, n: int) -> int:
        # A first pass counts lines so the second keeps only the last n without buffering them all.
        ends: list[int] = []
        pos = 0
        with self._gzip_open() as gz:
            for chunk in iter(_reader(gz, self._read_size), b""):
                base = pos
                idx = chunk.find(b"\n")
                while idx >= 0:
                    ends.append(base + idx + 1)
                    idx = chunk.find(b"\n", idx + 1)
                if len(ends) > n + 1:
                    del ends[: len(ends) - n - 1]
                pos += len(chunk)
        return ends[-n - 1] if len(ends) > n else 0

    def _take(self, data: bytes, out: list[Item]) -> None:
        start = self._pos
        self._pos += len(data)
        if self._pos <= self._skip_to:
            self._split.reset(self._pos)
            return
        if start < self._skip_to:
            data = data[self._skip_to - start :]
            start = self._skip_to
        self._emit(*self._split.feed(data, start), out)

    def _emit(self, lines: list[bytes], offsets: list[int], out: list[Item]) -> None:
        if lines:
            out.append(LineBatch(self.name, lines, offsets, self._file_id, self.path))

    def _finish(self, out: list[Item], exc: BaseException | None) -> None:
        self.flush(out)
        self.close()
        if exc is not None:
            reason = f"{self.path}: corrupt gzip stream ({exc})"
            out.append(SourceStatus(self.name, SourceState.ERROR, reason))
        elif self._announce:
            out.append(SourceStatus(self.name, SourceState.DONE))


def _reader(gz: gzip.GzipFile, size: int) -> Callable[[], bytes]:
    return lambda: gz.read(size)
