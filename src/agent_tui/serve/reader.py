"""One client's reader of one source: exact resume by position, across rename rotation and truncation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agent_tui.serve.files import ServedDir, file_id_of, same_file
from agent_tui.sources.cursor import Position

__all__ = ["Chunk", "SourceReader"]

_MAX_LINE = 16 << 20


@dataclass(slots=True)
class Chunk:
    """Complete lines read from one file, with the offset just past each line."""

    source: str
    file_id: str
    lines: list[bytes]
    ends: list[int]


class SourceReader:
    """Reads complete lines of one source from a position, following rotation like ``tail -F``.

    The reader keeps its file open, so lines written to a file after it was renamed are still read; once the
    live name points at a new file and the old one is drained, it switches to the new file at offset 0.
    """

    def __init__(self, served: ServedDir, source: str, *, chunk_bytes: int = 256 * 1024) -> None:
        self.served = served
        self.source = source
        self.chunk_bytes = chunk_bytes
        self.live = served.resolve(source)
        self.fd: int | None = None
        self.file_id = ""
        self.offset = 0
        self.pending: list[tuple[int, int]] = []
        """Identities (dev, inode) of the rotated files still to read after the open one, oldest first."""
        self.warning = ""

    def start_at(self, start: Position | None, *, lines: int | None = None) -> None:
        """Open at a cursor position, else at the oldest rotated sibling (``X.N``), or the last ``lines``.

        A cursor whose file is gone (deleted, compressed, truncated) restarts at the live file's start with a
        ``warning``; ``.gz`` siblings are never read.
        """
        if start is not None and start.offset >= 0:
            chain = self.served.chain(self.source)
            for index, path in enumerate(chain):
                fd = _open(path)
                if fd is None:
                    continue
                if same_file(fd, start.file_id, start.offset):
                    self._adopt(fd, start.offset)
                    self.pending = _identities(chain[index + 1 : -1])
                    return
                os.close(fd)
            self.warning = f"{self.source}: the cursor's file is gone or was truncated; resumed at its start"
        elif lines is None:
            chain = self.served.chain(self.source)
            for index, path in enumerate(chain[:-1]):
                if self._adopt_path(path):
                    self.pending = _identities(chain[index + 1 : -1])
                    return
        if self._open_live() and lines is not None and self.fd is not None:
            self.offset = _offset_of_last_lines(self.fd, lines)

    def position(self) -> Position:
        """Where this source stands now (the offset just past the last line read)."""
        if self.fd is not None and self.file_id.endswith(".-") and self.offset > 0:
            self.file_id = file_id_of(self.fd)
        return Position(self.source, self.file_id or "0.0.-", self.offset)

    def close(self) -> None:
        """Release the open file."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def read(self, budget: int) -> Chunk | None:
        """Up to ``budget`` bytes of complete lines, or None when nothing new is there yet."""
        for _ in range(4):
            if self.fd is None and not self._open_live():
                return None
            chunk = self._read_lines(max(4096, min(budget, self.chunk_bytes)))
            if chunk is not None:
                return chunk
            moved = self._advance_file()
            if moved is not True:
                return moved or None
        return None

    def _read_lines(self, size: int) -> Chunk | None:
        assert self.fd is not None
        while True:
            data = os.pread(self.fd, size, self.offset)
            cut = data.rfind(b"\n")
            if cut >= 0:
                break
            if len(data) < size:
                return None
            if size >= _MAX_LINE:
                # A line longer than 16 MiB goes out in 16 MiB pieces rather than never.
                self.offset += len(data)
                return Chunk(self.source, self._identity(), [data], [self.offset])
            size *= 2
        lines = data[:cut].split(b"\n")
        ends: list[int] = []
        pos = self.offset
        for line in lines:
            pos += len(line) + 1
            ends.append(pos)
        self.offset = pos
        return Chunk(self.source, self._identity(), lines, ends)

    def _identity(self) -> str:
        if self.file_id.endswith(".-") and self.fd is not None:
            self.file_id = file_id_of(self.fd)
        return self.file_id

    def _advance_file(self) -> Chunk | bool:
        """At the end of the open file: switch to the next file of the chain (True) when there is one."""
        assert self.fd is not None
        st = os.fstat(self.fd)
        if self.pending:
            if st.st_size > self.offset:
                return self._final_partial(st.st_size)
            self.close()
            self._open_pending()
            return True
        try:
            live = os.stat(self.live)
        except OSError:
            return False
        if (live.st_dev, live.st_ino) != (st.st_dev, st.st_ino):
            if st.st_size > self.offset:
                return self._final_partial(st.st_size)
            self.close()
            return self._open_live()
        if st.st_size < self.offset:
            self.offset = 0
            self.file_id = file_id_of(self.fd)
            return True
        return False

    def _final_partial(self, size: int) -> Chunk:
        """A rotated-away file ended without a newline: its last line is final, so deliver it."""
        assert self.fd is not None
        line = os.pread(self.fd, size - self.offset, self.offset)
        self.offset += len(line)
        return Chunk(self.source, self.file_id, [line], [self.offset])

    def _open_pending(self) -> None:
        """Open the next rotated file by identity (names shift when the writer rotates again)."""
        while self.pending:
            wanted = self.pending.pop(0)
            for path in self.served.chain(self.source)[:-1]:
                fd = _open(path)
                if fd is None:
                    continue
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) == wanted:
                    self._adopt(fd, 0)
                    return
                os.close(fd)

    def _open_live(self) -> bool:
        return self._adopt_path(self.live)

    def _adopt_path(self, path: Path) -> bool:
        fd = _open(path)
        if fd is None:
            return False
        self._adopt(fd, 0)
        return True

    def _adopt(self, fd: int, offset: int) -> None:
        self.close()
        self.fd = fd
        self.offset = offset
        self.file_id = file_id_of(fd)


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _identities(paths: list[Path]) -> list[tuple[int, int]]:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        out.append((st.st_dev, st.st_ino))
    return out


def _offset_of_last_lines(fd: int, lines: int) -> int:
    """The offset where the last ``lines`` complete lines start (0: just after the last complete line)."""
    size = os.fstat(fd).st_size
    base = size
    tail = b""
    while base > 0 and tail.count(b"\n") <= lines:
        start = max(0, base - 64 * 1024)
        tail = os.pread(fd, base - start, start) + tail
        base = start
    pos = tail.rfind(b"\n")
    if pos < 0:
        return base
    for _ in range(lines):
        pos = tail.rfind(b"\n", 0, pos)
        if pos < 0:
            return base
    return base + pos + 1
