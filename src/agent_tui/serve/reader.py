"""One client's reader of one source: exact resume by position, across rotation by several writers."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_tui.serve.files import ServedDir, file_id_of, head_crc, same_file
from agent_tui.sources.cursor import Position
from agent_tui.sources.rotated import MAX_ROTATED_OPEN, ROTATED_GRACE_S

__all__ = ["Chunk", "SourceReader"]

_MAX_LINE = 16 << 20
_MAX_HEADS = 1024
Ident = tuple[int, int]


@dataclass(slots=True)
class Chunk:
    """Complete lines read from one file, with the offset just past each line."""

    source: str
    file_id: str
    lines: list[bytes]
    ends: list[int]


@dataclass(slots=True)
class _Open:
    """A file of the source held open by identity, whatever it is called now."""

    fd: int
    ident: Ident
    file_id: str
    offset: int
    quiet_since: float

    def identity(self) -> str:
        """``dev.inode.headcrc``, filling in the crc once the first line is complete."""
        if self.file_id.endswith(".-"):
            self.file_id = file_id_of(self.fd)
        return self.file_id


class SourceReader:
    """Reads complete lines of one source from a position, following rotation by any number of writers.

    Every file is held by identity: a file renamed away (``x.jsonl`` → ``x.jsonl.1`` → ``.2`` …) keeps
    being read, late appends by other writers included, until it is drained and gone or quiet for
    :data:`~agent_tui.sources.rotated.ROTATED_GRACE_S`; files rotated away between two reads are found
    among the ``X.N`` siblings by identity. A copy of a file already read (same first line) is skipped.
    The reader's position is one ``source:file:offset`` per open file, so a resume is exact even while
    an older file still takes late appends.
    """

    def __init__(
        self,
        served: ServedDir,
        source: str,
        *,
        chunk_bytes: int = 256 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.served = served
        self.source = source
        self.chunk_bytes = chunk_bytes
        self.live = served.resolve(source)
        self.files: list[_Open] = []
        """Open files, oldest first; the newest is the live file while it is current."""
        self.pending: list[Ident] = []
        """Identities of the rotated files still to open for the history, oldest first."""
        self.live_ident: Ident | None = None
        self.closed: dict[Ident, tuple[str, int]] = {}
        """Files let go: identity → (head crc, bytes read), so a sibling scan knows them."""
        self.heads: dict[str, None] = {}
        """Head crcs of the files read, newest last and bounded: a sibling with one of them is a copy."""
        self.warning = ""
        self._clock = clock

    def start_at(self, start: list[Position] | None, *, lines: int | None = None) -> None:
        """Open at the cursor's positions, else at the oldest rotated sibling ``X.N``, or the last ``lines``.

        Files of the chain newer than the newest position are read from their start; older ones the
        cursor does not name were finished. A cursor whose files are all gone (deleted, compressed,
        truncated) restarts at the live file's start with a ``warning``; ``.gz`` siblings are never read.
        """
        chain = self.served.chain(self.source)
        if start:
            if self._resume(chain, [p for p in start if p.offset >= 0]):
                return
            self.warning = f"{self.source}: the cursor's file is gone or was truncated; resumed at its start"
        elif lines is None:
            self.pending = _identities(chain[:-1])
            return
        for path in chain[:-1]:
            self._remember_closed(path)  # history not asked for: only files rotated from now on
        if self._open_live() and lines is not None:
            live = self.files[-1]
            live.offset = _offset_of_last_lines(live.fd, lines)

    def _resume(self, chain: list[Path], start: list[Position]) -> bool:
        newest = -1
        for index, path in enumerate(chain):
            fd = _open(path)
            if fd is None:
                continue
            # The furthest position wins: a file's id gains its head crc once its first line is complete.
            matches = [p for p in start if same_file(fd, p.file_id, p.offset)]
            match = max(matches, key=lambda p: p.offset, default=None)
            if match is None:
                os.close(fd)
                self._remember_closed(path)
                continue
            self._adopt(fd, match.offset)
            newest = index
        if newest < 0:
            self.closed.clear()
            return False
        for path in chain[newest + 1 :]:
            # Newer than anything the client got: read from the start, even if seen closed above.
            ident = _identity(path)
            if ident is not None:
                self.closed.pop(ident, None)
                if path != chain[-1]:
                    self.pending.append(ident)
        if newest == len(chain) - 1:
            self.live_ident = self.files[-1].ident
        return True

    def positions(self) -> list[Position]:
        """Where this source stands: the offset just past the last line read, per open file."""
        if not self.files:
            return [Position(self.source, "0.0.-", 0)]
        return [Position(self.source, f.identity(), f.offset) for f in self.files]

    def close(self) -> None:
        """Release the open files."""
        for held in self.files:
            os.close(held.fd)
        self.files.clear()

    def read(self, budget: int) -> Chunk | None:
        """Up to ``budget`` bytes of complete lines, or None when nothing new is there yet."""
        size = max(4096, min(budget, self.chunk_bytes))
        if self.live_ident is not None and self._live_replaced():
            # Looked at on every read, not only at the end: a client lagging behind must still meet
            # every file rotated away before it is compressed or pruned.
            self._scan_siblings()
            self._open_live()
        for _ in range(8):
            for held in self.files:
                chunk = self._read_lines(held, size)
                if chunk is not None:
                    held.quiet_since = self._clock()
                    return chunk
            moved = self._advance()
            if moved is not True:
                return moved or None
        return None

    def _read_lines(self, held: _Open, size: int) -> Chunk | None:
        while True:
            data = os.pread(held.fd, size, held.offset)
            cut = data.rfind(b"\n")
            if cut >= 0:
                break
            if len(data) < size:
                return None
            if size >= _MAX_LINE:
                # A line longer than 16 MiB goes out in 16 MiB pieces rather than never.
                held.offset += len(data)
                return Chunk(self.source, held.identity(), [data], [held.offset])
            size *= 2
        lines = data[:cut].split(b"\n")
        ends: list[int] = []
        pos = held.offset
        for line in lines:
            pos += len(line) + 1
            ends.append(pos)
        held.offset = pos
        return Chunk(self.source, held.identity(), lines, ends)

    def _advance(self) -> Chunk | bool:
        """Every open file is at its end: open the next file (True), let finished ones go, or wait."""
        if self.pending:
            self._open_pending()
            return True
        if self.live_ident is None or self._live_replaced():
            # Siblings first: files rotated away while the history was read, or since the last look.
            self._scan_siblings()
            return self._open_live()
        if self.files and self.files[-1].ident == self.live_ident:
            held = self.files[-1]
            if os.fstat(held.fd).st_size < held.offset:
                held.offset = 0
                held.file_id = file_id_of(held.fd)
                return True
        return self._retire()

    def _live_replaced(self) -> bool:
        ident = _identity(self.live)
        return ident is not None and ident != self.live_ident

    def _retire(self) -> Chunk | bool:
        """Let drained rotated files go once they are gone or quiet (a final partial line goes out first)."""
        now = self._clock()
        rotated = [f for f in self.files if f.ident != self.live_ident]
        excess = len(rotated) - MAX_ROTATED_OPEN
        for held in rotated:
            st = os.fstat(held.fd)
            if st.st_nlink and now - held.quiet_since < ROTATED_GRACE_S and excess <= 0:
                continue
            excess -= 1
            if st.st_size > held.offset:
                line = os.pread(held.fd, st.st_size - held.offset, held.offset)
                held.offset += len(line)
                return Chunk(self.source, held.identity(), [line], [held.offset])
            if st.st_nlink:
                self.closed[held.ident] = (head_crc(held.fd), held.offset)
            os.close(held.fd)
            self.files.remove(held)
        return False

    def _scan_siblings(self) -> None:
        """Open the ``X.N`` files never seen (rotated away since the last look), oldest first."""
        held = {f.ident for f in self.files}
        present: set[Ident] = set()
        for path in self.served.chain(self.source)[:-1]:
            ident = _identity(path)
            if ident is None:
                continue
            present.add(ident)
            closed = self.closed.get(ident)
            if ident in held or ident in self.pending or (closed is not None and _size(path) == closed[1]):
                continue
            fd = _open(path)
            if fd is None:
                continue
            st = os.fstat(fd)
            crc = head_crc(fd)
            if (st.st_dev, st.st_ino) != ident:
                os.close(fd)  # renamed again meanwhile; the next look finds it
            elif closed is not None and closed[0] == crc:
                self._adopt(fd, closed[1])  # appended to after it was let go: only the new bytes
                del self.closed[ident]
            elif crc != "-" and crc in self.heads:
                self.closed[ident] = (crc, st.st_size)  # a copy of a file already read
                os.close(fd)
            else:
                self._adopt(fd, 0)
        for ident in self.closed.keys() - present:
            del self.closed[ident]

    def _open_pending(self) -> None:
        """Open the next rotated file by identity (names shift when a writer rotates again)."""
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
        fd = _open(self.live)
        if fd is None:
            return False
        st = os.fstat(fd)
        ident = (st.st_dev, st.st_ino)
        self.live_ident = ident
        if any(f.ident == ident for f in self.files):
            os.close(fd)
            return True
        self._adopt(fd, 0)
        return True

    def _adopt(self, fd: int, offset: int) -> None:
        st = os.fstat(fd)
        held = _Open(fd, (st.st_dev, st.st_ino), file_id_of(fd), offset, self._clock())
        self.files.append(held)
        crc = held.file_id.rpartition(".")[2]
        if crc != "-":
            self.heads[crc] = None
            if len(self.heads) > _MAX_HEADS:
                del self.heads[next(iter(self.heads))]

    def _remember_closed(self, path: Path) -> None:
        fd = _open(path)
        if fd is not None:
            st = os.fstat(fd)
            self.closed[(st.st_dev, st.st_ino)] = (head_crc(fd), st.st_size)
            os.close(fd)


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _identity(path: Path) -> Ident | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def _identities(paths: list[Path]) -> list[Ident]:
    return [ident for ident in map(_identity, paths) if ident is not None]


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
