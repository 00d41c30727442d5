"""One client's reader of one source: exact resume by position, across rotation by several writers."""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_tui.serve.files import ServedDir, file_id_of, offset_of_last_lines, same_file
from agent_tui.sources.cursor import Position
from agent_tui.sources.rotated import MAX_ROTATED_OPEN, ROTATED_GRACE_S, first_line

__all__ = ["Chunk", "SourceReader"]

_MAX_LINE = 16 << 20
_MAX_HEADS = 1024
_MAX_CLOSED = 4096
_FIRST_LINE_MAX = 512
_SNAPSHOT_TRIES = 8
Ident = tuple[int, int]


@dataclass(slots=True)
class Chunk:
    """Complete lines read from one file, with the offset just past each line."""

    source: str
    file_id: str
    lines: list[bytes]
    ends: list[int]


@dataclass(frozen=True, slots=True)
class _Closed:
    """A file let go: how to tell it again and how far it was read."""

    head: int | None
    offset: int
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Open:
    """A file of the source held open by identity, whatever it is called now."""

    fd: int
    ident: Ident
    file_id: str
    offset: int
    quiet_since: float
    head: int | None = None

    def identity(self) -> str:
        """``dev.inode.headcrc``, filling in the crc once the first line is complete."""
        if self.file_id.endswith(".-"):
            self.file_id = file_id_of(self.fd)
        return self.file_id

    def head_key(self) -> int | None:
        """The key of the file's first line (see :func:`_head_key`), once that line is complete."""
        if self.head is None:
            self.head = _head_key(self.fd)
        return self.head


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
        self.closed: dict[Ident, _Closed] = {}
        """Files let go by identity, oldest first and bounded, so a sibling scan knows them at any name."""
        self.heads: dict[int, None] = {}
        """First-line keys of the files read, newest last and bounded: a sibling with one is a copy."""
        self.warning = ""
        self._clock = clock

    def start_at(self, start: list[Position] | None, *, lines: int | None = None) -> None:
        """Open at the cursor's positions, else at the oldest rotated sibling ``X.N``, or the last ``lines``.

        Files of the chain newer than the newest position are read from their start; older ones the
        cursor does not name were finished. A cursor whose files are all gone (deleted, compressed,
        truncated) restarts at the live file's start with a ``warning``; ``.gz`` siblings are never read.
        """
        siblings, live = self._snapshot()
        placed = False
        if start:
            placed = self._resume(siblings, live, [p for p in start if p.offset >= 0])
            if not placed:
                self.warning = (
                    f"{self.source}: the cursor's file is gone or was truncated; resumed at its start"
                )
        elif lines is None:
            self.pending = [ident for ident, _ in siblings]
            placed = True
        if not placed:
            for ident, fd in siblings:
                st = os.fstat(fd)
                self._let_go(ident, _head_key(fd), st.st_size, st)  # no history: only files rotated from now
            if self._take_live(live) and lines is not None:
                newest = self.files[-1]
                newest.offset = offset_of_last_lines(newest.fd, lines)
        self._close_unheld([*siblings, *([live] if live else [])])

    def _snapshot(self) -> tuple[list[tuple[Ident, int]], tuple[Ident, int] | None]:
        """The rotated siblings (oldest first) and the live file, opened, as one listing no rotation overtook.

        A writer renaming between the listing and the opens shifts the names by one: opened by the listed
        names, a file is skipped (met later by a sibling scan as unknown, so read again from 0) or a newer
        one taken for the older. So the chain is listed again after the opens and the look retried until
        both listings name the files opened (or the tries run out: the last look is used).
        """
        for attempt in range(_SNAPSHOT_TRIES):
            chain = self.served.chain(self.source)
            opened = [(path, fd) for path in chain if (fd := _open(path)) is not None]
            seen = [(_fd_identity(fd), fd) for _, fd in opened]
            again = [i for i in map(_identity, self.served.chain(self.source)) if i is not None]
            if again == [ident for ident, _ in seen] or attempt == _SNAPSHOT_TRIES - 1:
                break
            for _, fd in seen:
                os.close(fd)
        if opened and opened[-1][0] == chain[-1]:
            return seen[:-1], seen[-1]
        return seen, None

    def _resume(
        self, siblings: list[tuple[Ident, int]], live: tuple[Ident, int] | None, start: list[Position]
    ) -> bool:
        files = [*siblings, *([live] if live else [])]
        newest = -1
        for index, (ident, fd) in enumerate(files):
            # The furthest position wins: a file's id gains its head crc once its first line is complete.
            matches = [p for p in start if same_file(fd, p.file_id, p.offset)]
            match = max(matches, key=lambda p: p.offset, default=None)
            if match is None:
                st = os.fstat(fd)
                self._let_go(ident, _head_key(fd), st.st_size, st)
                continue
            self._adopt(fd, match.offset)
            newest = index
        if newest < 0:
            self.closed.clear()
            return False
        for ident, _ in files[newest + 1 :]:
            # Newer than anything the client got: read from the start, even if seen closed above.
            self.closed.pop(ident, None)
            if live is None or ident != live[0]:
                self.pending.append(ident)
        if live is not None and newest == len(files) - 1:
            self.live_ident = live[0]
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
            return self._scan_siblings()
        if self.files and self.files[-1].ident == self.live_ident:
            held = self.files[-1]
            if os.fstat(held.fd).st_size < held.offset:
                held.offset = 0
                held.file_id = file_id_of(held.fd)
                held.head = None
                return True
        return self._retire()

    def _live_replaced(self) -> bool:
        ident = _identity(self.live)
        return ident is not None and ident != self.live_ident

    def _retire(self) -> Chunk | bool:
        """Let drained rotated files go once gone or quiet, the oldest ones early when too many are open.

        Lines appended since the read are read as lines first (True). A final partial line goes out only
        once its file is gone or quiet: in a file still written it may be a write in progress, so such a
        file stays open rather than be let go early.
        """
        now = self._clock()
        rotated = [f for f in self.files if f.ident != self.live_ident]
        excess = len(rotated) - MAX_ROTATED_OPEN
        for held in rotated:
            st = os.fstat(held.fd)
            ended = not st.st_nlink or now - held.quiet_since >= ROTATED_GRACE_S
            if not ended and excess <= 0:
                continue
            if st.st_size > held.offset:
                tail = os.pread(held.fd, st.st_size - held.offset, held.offset)
                if b"\n" in tail:
                    return True
                if not ended:
                    continue
                held.offset += len(tail)
                return Chunk(self.source, held.identity(), [tail], [held.offset])
            excess -= 1
            self._remember_head(held.head_key())
            if st.st_nlink:
                self._let_go(held.ident, held.head, held.offset, st)
            os.close(held.fd)
            self.files.remove(held)
        return False

    def _scan_siblings(self) -> bool:
        """Open the ``X.N`` files never seen, or grown since they were let go, oldest first, then the live
        file (False when there is none).

        The siblings come from a listing no rotation overtook (:meth:`_snapshot`): a listing taken
        halfway through a writer's renames misses a file, which would then come after newer ones. A
        deleted file's inode number can be handed to a new file, so a known identity counts only with
        the same first line.
        """
        held = {f.ident for f in self.files}
        for f in self.files:
            self._remember_head(f.head_key())  # a copy of a file being read is not read again
        siblings, live = self._snapshot()
        for ident, fd in siblings:
            st = os.fstat(fd)
            known = self.closed.get(ident)
            unchanged = known is not None and (st.st_size, st.st_mtime_ns) == (known.size, known.mtime_ns)
            if ident in held or ident in self.pending or unchanged:
                os.close(fd)
            else:
                self._consider(fd, ident, known)
        # The live file of the same look: opened again by name, a rotation meanwhile would leave the
        # file it renamed unread until the next rotation.
        taken = self._take_live(live)
        self._close_unheld([live] if live else [])
        return taken

    def _consider(self, fd: int, ident: Ident, known: _Closed | None) -> None:
        st = os.fstat(fd)
        head = _head_key(fd)
        if known is not None and known.head in (head, None):
            del self.closed[ident]
            self._adopt(fd, known.offset)  # appended to after it was let go: only the new bytes
        elif head is not None and head in self.heads:
            self._let_go(ident, head, st.st_size, st)  # a copy of a file already read
            os.close(fd)
        else:
            self._adopt(fd, 0)

    def _open_pending(self) -> None:
        """Open the next rotated file by identity, found in a listing no rotation overtook (looked up by
        names shifting under it, a file would be missed and come after newer ones)."""
        siblings, live = self._snapshot()
        found = dict(siblings)
        while self.pending:
            fd = found.get(self.pending.pop(0))
            if fd is not None:
                self._adopt(fd, 0)
                break
        self._close_unheld([*siblings, *([live] if live else [])])

    def _take_live(self, live: tuple[Ident, int] | None) -> bool:
        if live is None:
            return False
        self.live_ident, fd = live
        if not any(f.ident == self.live_ident for f in self.files):
            self._adopt(fd, 0)
        return True

    def _close_unheld(self, opened: list[tuple[Ident, int]]) -> None:
        held = {f.fd for f in self.files}
        for _, fd in opened:
            if fd not in held:
                os.close(fd)

    def _adopt(self, fd: int, offset: int) -> None:
        st = os.fstat(fd)
        held = _Open(fd, (st.st_dev, st.st_ino), file_id_of(fd), offset, self._clock())
        self.files.append(held)
        self._remember_head(held.head_key())

    def _remember_head(self, head: int | None) -> None:
        if head is not None:
            self.heads[head] = None
            if len(self.heads) > _MAX_HEADS:
                del self.heads[next(iter(self.heads))]

    def _let_go(self, ident: Ident, head: int | None, offset: int, st: os.stat_result) -> None:
        self.closed.pop(ident, None)
        self.closed[ident] = _Closed(head, offset, st.st_size, st.st_mtime_ns)
        if len(self.closed) > _MAX_CLOSED:
            del self.closed[next(iter(self.closed))]


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _fd_identity(fd: int) -> Ident:
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)


def _identity(path: Path) -> Ident | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _head_key(fd: int) -> int | None:
    """The file's first line (up to 512 bytes) as crc32 and length; None while that line is incomplete.

    The whole first line, not the 64 bytes of the cursor's crc: those hold little more than a
    millisecond timestamp, which two files rotated within the same millisecond share.
    """
    head = first_line(fd)
    if not head.endswith(b"\n") and len(head) < _FIRST_LINE_MAX:
        return None
    return zlib.crc32(head) << 16 | len(head)
