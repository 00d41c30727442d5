"""``tail -F`` for one path: history, then new lines across rename, copytruncate and delete-and-recreate.

Blocking by design (plain ``os.pread``); the async sources run :meth:`FileTailer.poll` on a worker thread.
Offsets in the batches are byte offsets in the file named by ``file_id`` (``dev:inode``). ``path`` is the
path the file had when it was opened: after a rename rotation it may name a newer file, so a reader that
re-reads a line by offset must check that the file at ``path`` still has that ``dev:inode``.
When following, a file renamed away keeps being read by identity (late appends by other writers
included), and plain ``path.N`` siblings that were live and rotated away between two polls are found and
read too (see :mod:`agent_tui.sources.rotated`).
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable
from typing import Literal, Protocol

from agent_tui.sources.base import LineBatch, SourceState, SourceStatus
from agent_tui.sources.lines import LineSplitter
from agent_tui.sources.rotated import RotatedFile, RotatedFiles

__all__ = ["HEADER_BYTES", "FileTailer", "Item", "Reader", "start_of_last_lines"]

Item = LineBatch | SourceStatus
HEADER_BYTES = 1024
"""Prefix compared on every check: a different prefix means the file was truncated and rewritten."""
_BACKSCAN_BLOCK = 1 << 16


class Reader(Protocol):
    """A blocking line reader driven by polls on a worker thread."""

    name: str
    done: bool

    def poll(self, budget: int, out: list[Item]) -> int:
        """Read up to ``budget`` bytes, append batches and status changes to ``out``, return bytes read."""
        ...

    def flush(self, out: list[Item]) -> None:
        """Append the held partial line (if any) as a final line."""
        ...

    def close(self) -> None:
        """Release the file descriptor."""
        ...

    def open_idents(self) -> set[tuple[int, int]]:
        """``(dev, inode)`` of the files currently held open."""
        ...

    @property
    def caught_up(self) -> bool:
        """True once the history is read (done, at the end of a followed file, or waiting for it)."""
        ...


def start_of_last_lines(fd: int, size: int, n: int) -> int:
    """Offset where the last ``n`` complete lines of a file start (a trailing partial line comes on top).

    Args:
        fd: An open descriptor of the file.
        size: The file size to count back from.
        n: How many complete lines to keep; 0 gives the start of the trailing partial line.
    """
    need = n + 1
    end = size
    while end > 0:
        start = max(0, end - _BACKSCAN_BLOCK)
        block = os.pread(fd, end - start, start)
        count = block.count(b"\n")
        if count >= need:
            idx = len(block)
            for _ in range(need):
                idx = block.rfind(b"\n", 0, idx)
            return start + idx + 1
        need -= count
        end = start
    return 0


class FileTailer:
    """Reads one path like ``tail -F`` (when following) or ``cat``/``tail -n`` (when not)."""

    def __init__(
        self,
        path: str,
        name: str,
        *,
        follow: bool,
        lines: int | None = None,
        read_size: int = 1 << 20,
        announce: bool = True,
        siblings: Literal["read", "skip"] = "skip",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a tailer; nothing is opened until the first poll.

        Args:
            path: The file to read.
            name: The source name stamped on every batch.
            follow: Keep reading after the end, surviving rotation and truncation.
            lines: History bound for the first file opened (``None`` all, ``N`` last N lines, 0 none).
            read_size: Bytes per read; one batch holds at most this many.
            announce: Emit READING/FOLLOWING/DONE statuses (errors and rotations are always reported).
            siblings: When following, what to do with the plain ``path.N`` siblings already there at
                the first open: ``read`` them first (oldest first) or ``skip`` them. Siblings that
                show up later and were never seen are always read.
            clock: Monotonic clock deciding when a quiet rotated file is let go.
        """
        self.path = path
        self.name = name
        self.follow = follow
        self.done = False
        self._lines = lines
        self._read_size = read_size
        self._announce = announce
        self._fd = -1
        self._ident = (0, 0)
        self._file_id = ""
        self._pos = 0
        self._header = b""
        self._split = LineSplitter()
        self._opened_once = False
        self._at_eof_once = False
        self._waiting_reported = False
        self._gone_reported = False
        self._siblings = siblings
        self._rotated = RotatedFiles(path, clock, read_size)

    def open_idents(self) -> set[tuple[int, int]]:
        """``(dev, inode)`` of the file currently held open (empty before the first open)."""
        return ({self._ident} if self._fd >= 0 else set()) | self._rotated.idents()

    @property
    def orphaned(self) -> bool:
        """True while the followed path is gone (deleted or renamed away), nothing replaced it yet and no
        rotated file is still being read."""
        return self._gone_reported and not self._rotated.files

    @property
    def position(self) -> int:
        """Offset of the next byte to read in the current file."""
        return self._pos

    @property
    def caught_up(self) -> bool:
        """True once the history is read (done, at the end of the file, or waiting for it to appear)."""
        return self.done or self._at_eof_once or self._waiting_reported

    def poll(self, budget: int, out: list[Item]) -> int:
        """Read what is available (up to ``budget`` bytes) and check for rotation when at the end."""
        if self.done:
            return 0
        if self.follow and not self._opened_once and not self._waiting_reported:
            # Siblings there before the first open are history (read or skipped); later ones are new.
            self._rotated.scan((0, 0), read=self._siblings == "read" and self._lines is None, history=True)
        if self.follow and self._fd >= 0 and self._replaced():
            # Checked on every poll, not only at the end: a reader lagging behind must still meet every
            # file rotated away before it is compressed or pruned.
            self._switch(out)
        # The live file is opened before the older ones are read, so a rotation meanwhile cannot hide it.
        opened = self._fd >= 0 or self._open(out)
        used = self._rotated.poll(self.name, budget, out) if self._rotated.files else 0
        if used >= budget or not opened:
            return used
        got, eof = self._read(budget - used, out)
        used += got
        if eof:
            if not self.follow:
                self._finish(out)
            else:
                if not self._at_eof_once:
                    self._at_eof_once = True
                    self._status(out, SourceState.FOLLOWING, "", announced=True)
                if self._check(out) and used < budget:
                    # Older files first: the new live file is read once the rotated ones are at their end.
                    used += self._rotated.poll(self.name, budget - used, out)
                    if self._fd >= 0 and used < budget:
                        used += self._read(budget - used, out)[0]
        return used

    def flush(self, out: list[Item]) -> None:
        """Emit the held partial lines as final lines."""
        self._rotated.flush(self.name, out)
        self._emit_lines(*self._split.flush(), out)

    def close(self) -> None:
        """Close the open files; the tailer reads nothing more."""
        self._rotated.close()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.done = True

    def _status(self, out: list[Item], state: SourceState, reason: str, *, announced: bool = False) -> None:
        if self._announce or not announced:
            out.append(SourceStatus(self.name, state, reason))

    def _open(self, out: list[Item]) -> bool:
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore the flag).
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as exc:
            return self._open_failed(out, exc)
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            os.close(fd)
            self._status(out, SourceState.ERROR, f"{self.path}: is a directory")
            self.done = True
            return False
        self._fd = fd
        self._ident = (st.st_dev, st.st_ino)
        self._file_id = f"{st.st_dev}:{st.st_ino}"
        self._waiting_reported = False
        self._gone_reported = False
        start = 0
        if not self._opened_once:
            self._opened_once = True
            self._status(out, SourceState.READING, "", announced=True)
            if self._lines is not None:
                if self._lines == 0 and not self.follow:
                    self._finish(out)
                    return False
                start = start_of_last_lines(fd, st.st_size, self._lines)
        self._pos = start
        self._split.reset(start)
        self._header = os.pread(fd, min(start, HEADER_BYTES), 0)
        return True

    def _open_failed(self, out: list[Item], exc: OSError) -> bool:
        reason = f"{self.path}: {exc.strerror or exc}"
        if not self.follow:
            self._status(out, SourceState.ERROR, reason)
            self.done = True
        elif not self._waiting_reported:
            self._waiting_reported = True
            if exc.errno == errno.ENOENT:
                self._status(out, SourceState.WAITING, f"{self.path}: does not exist yet; waiting for it")
            else:
                self._status(out, SourceState.ERROR, f"{reason} (waiting for it to appear)")
        return False

    def _read(self, budget: int, out: list[Item]) -> tuple[int, bool]:
        used = 0
        fd = self._fd
        while used < budget:
            want = min(self._read_size, budget - used)
            data = os.pread(fd, want, self._pos)
            if not data:
                return used, True
            if self.follow and self._header_changed():
                self._restart(out, "file was truncated and rewritten; reading it from the start")
                continue
            used += len(data)
            self._emit_lines(*self._split.feed(data, self._pos), out)
            self._pos += len(data)
            if len(self._header) < HEADER_BYTES and len(self._header) < self._pos:
                self._header = os.pread(fd, min(self._pos, HEADER_BYTES), 0)
            if len(data) < want:
                return used, True
        return used, False

    def _emit_lines(self, lines: list[bytes], offsets: list[int], out: list[Item]) -> None:
        if lines:
            out.append(LineBatch(self.name, lines, offsets, self._file_id, self.path))

    def _header_changed(self) -> bool:
        header = self._header
        return bool(header) and os.pread(self._fd, len(header), 0) != header

    def _finish(self, out: list[Item]) -> None:
        self.flush(out)
        self.close()
        self._status(out, SourceState.DONE, "", announced=True)

    def _restart(self, out: list[Item], reason: str) -> None:
        self._emit_lines(*self._split.flush(), out)
        self._rotated.add_head(self._header[: self._header.find(b"\n") + 1])
        self._pos = 0
        self._split.reset(0)
        self._header = b""
        self._status(out, SourceState.FOLLOWING, f"{self.path}: {reason}")

    def _check(self, out: list[Item]) -> bool:
        """Detect truncation, rewrite and replacement at the end of the file; True when reading restarts."""
        if os.fstat(self._fd).st_size < self._pos:
            self._restart(out, "file was truncated; reading it from the start")
            return True
        if self._header_changed():
            self._restart(out, "file was truncated and rewritten; reading it from the start")
            return True
        try:
            st = os.stat(self.path)
        except OSError:
            if not self._gone_reported:
                self._gone_reported = True
                self._status(out, SourceState.FOLLOWING, f"{self.path}: removed; waiting for it to reappear")
            return False
        if (st.st_dev, st.st_ino) != self._ident:
            self._switch(out)
            return True
        return False

    def _replaced(self) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) != self._ident

    def _switch(self, out: list[Item]) -> None:
        # The path names a new file. The old one stays open under whatever name it has now: it is read
        # first, and so is anything another writer still appends to it. Files rotated away between two
        # polls are found among the siblings.
        rotated = RotatedFile(self._fd, self._ident, self.path, self._pos, self._split)
        self._rotated.add_head(self._header[: self._header.find(b"\n") + 1])
        self._rotated.adopt(rotated)
        self._split = LineSplitter()
        self._fd = -1
        if self._open(out):
            self._status(out, SourceState.FOLLOWING, f"{self.path}: rotated; now reading the new file")
        self._rotated.scan(self._ident if self._fd >= 0 else (0, 0))
