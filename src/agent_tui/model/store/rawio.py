"""Where the store finds raw line bytes again: the source file by offset, or a spill file."""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

__all__ = ["SPILL", "RawFiles"]

SPILL = 0
"""File index of the spill file."""
_MAX_OPEN = 256
_BLOCK = 1 << 20


@dataclass(slots=True)
class _File:
    path: str
    file_id: str
    spill: bool


class RawFiles:
    """Keeps one descriptor per source file (so rotation cannot swap the bytes) plus one spill file.

    Lines from a local file are re-read with ``pread`` at their offset; lines from sources without an
    addressable file (stdin, remote, compressed) are appended to an unlinked temp file first. At most
    ``max_open`` descriptors stay open; a file reopened later must still be the same inode, or its
    lines read as empty rather than as someone else's bytes.
    """

    def __init__(self, spill_dir: str | None = None, max_open: int = _MAX_OPEN) -> None:
        self._files: list[_File] = [_File("", "", True)]
        self._keys: dict[tuple[str, str], int] = {}
        self._fds: OrderedDict[int, int] = OrderedDict()
        self._spill_dir = spill_dir
        self._spill_fd = -1
        self._spill_size = 0
        self._max_open = max_open

    def place(
        self, path: str, file_id: str, lines: Sequence[bytes], offsets: Sequence[int]
    ) -> tuple[int, Sequence[int]]:
        """Return ``(file index, offsets)`` for the lines, spilling them when their file cannot be re-read."""
        if path and file_id and len(offsets) == len(lines) and not path.endswith(".gz"):
            index = self._file_index(path, file_id, lines, offsets)
            if index is not None:
                return index, offsets
        return SPILL, self._spill(lines)

    def register(self, path: str, file_id: str = "") -> int | None:
        """Open ``path`` (checking it is still ``file_id`` when given); return its file index or None."""
        return self._file_index(path, file_id, (), ())

    def read(self, index: int, offset: int, length: int) -> bytes:
        """The bytes of one line (empty if its file has become unreadable)."""
        fd = self._fd(index)
        if fd < 0:
            return b""
        try:
            return os.pread(fd, length, offset)
        except OSError:
            return b""

    def read_many(
        self, files: Sequence[int], offsets: Sequence[int], lengths: Sequence[int]
    ) -> Iterator[bytes]:
        """Yield the bytes of many lines, reading neighbouring lines in large blocks."""
        block = b""
        block_file = -1
        block_start = 0
        for index, offset, length in zip(files, offsets, lengths, strict=True):
            rel = offset - block_start
            if index != block_file or rel < 0 or rel + length > len(block):
                fd = self._fd(index)
                try:
                    block = os.pread(fd, max(_BLOCK, length), offset) if fd >= 0 else b""
                except OSError:
                    block = b""
                block_file, block_start, rel = index, offset, 0
            yield block[rel : rel + length]

    def close(self) -> None:
        """Close every descriptor, including the spill file (which is then gone)."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._spill_fd >= 0:
            os.close(self._spill_fd)
            self._spill_fd = -1

    @property
    def spilled_bytes(self) -> int:
        """Bytes written to the spill file so far."""
        return self._spill_size

    def _file_index(
        self, path: str, file_id: str, lines: Sequence[bytes], offsets: Sequence[int]
    ) -> int | None:
        key = (path, file_id)
        index = self._keys.get(key)
        if index is not None:
            return index
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        if not self._same_file(fd, file_id, lines, offsets):
            os.close(fd)
            return None
        index = len(self._files)
        self._files.append(_File(path, file_id, False))
        self._keys[key] = index
        self._remember_fd(index, fd)
        return index

    @staticmethod
    def _same_file(fd: int, file_id: str, lines: Sequence[bytes], offsets: Sequence[int]) -> bool:
        # The file may have been rotated between the source reading it and us opening it.
        st = os.fstat(fd)
        if ":" in file_id and file_id != f"{st.st_dev}:{st.st_ino}":
            return False
        if not lines:
            return True
        try:
            return os.pread(fd, len(lines[0]), offsets[0]) == lines[0]
        except OSError:
            return False

    def _fd(self, index: int) -> int:
        if index == SPILL:
            return self._spill_fd
        fd = self._fds.get(index)
        if fd is not None:
            self._fds.move_to_end(index)
            return fd
        entry = self._files[index]
        try:
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return -1
        st = os.fstat(fd)
        if ":" in entry.file_id and entry.file_id != f"{st.st_dev}:{st.st_ino}":
            os.close(fd)
            return -1
        self._remember_fd(index, fd)
        return fd

    def _remember_fd(self, index: int, fd: int) -> None:
        self._fds[index] = fd
        while len(self._fds) > self._max_open:
            _, old = self._fds.popitem(last=False)
            os.close(old)

    def _spill(self, lines: Sequence[bytes]) -> list[int]:
        if not lines:
            return []
        if self._spill_fd < 0:
            handle, name = tempfile.mkstemp(prefix="agent-tui-spill-", dir=self._spill_dir)
            os.unlink(name)
            self._spill_fd = handle
        start = self._spill_size
        data = b"\n".join(lines) + b"\n"
        view = memoryview(data)
        written = 0
        while written < len(data):
            written += os.pwrite(self._spill_fd, view[written:], start + written)
        self._spill_size += len(data)
        return list(accumulate((len(line) + 1 for line in lines[:-1]), initial=start))
