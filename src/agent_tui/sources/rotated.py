"""Files a follower keeps reading by identity after they were rotated away from the path it follows.

Several processes appending to one file rotate it by renaming (``x.jsonl`` → ``x.jsonl.1``, then
``.1`` → ``.2`` …). A writer may still append to a file just after another process renamed it, and under
load the file can be renamed and replaced several times between two polls. So the follower keeps every
rotated file open by ``(dev, inode)`` — whatever it is called now — until it is drained and either gone
(unlinked by pruning or after its gzip copy was written) or quiet for :data:`ROTATED_GRACE_S`, and on
each rotation it looks for ``x.jsonl.N`` / ``x.jsonl.N.gz`` siblings it has never seen: files that were
live and rotated away (and maybe compressed) while it was not looking. A sibling that starts with the
first line of a file already read is a copy of it (the gzip of a file read as plain text, a
``copytruncate`` copy) and is not read again.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from agent_tui.sources.base import LineBatch, SourceStatus
from agent_tui.sources.lines import LineSplitter

__all__ = ["MAX_ROTATED_OPEN", "ROTATED_GRACE_S", "RotatedFile", "RotatedFiles", "first_line", "siblings_of"]

ROTATED_GRACE_S = 5.0
"""A drained rotated file that got no new bytes for this long is closed (a late writer is long done)."""
MAX_ROTATED_OPEN = 32
"""Drained rotated files beyond this many are closed early; a later rotation still notices their growth."""
_FIRST_LINE_MAX = 512
_MAX_HEADS = 1024
_MAX_SEEN = 4096

Ident = tuple[int, int]
Item = LineBatch | SourceStatus


@dataclass(frozen=True, slots=True)
class Seen:
    """A file read (or skipped on purpose) and closed: how to tell it again, and how far it was read."""

    head: bytes
    size: int
    mtime_ns: int


def first_line(fd: int, gz: bool = False) -> bytes:
    """The file's first line (at most 512 bytes, decompressed for gzip): what a copy starts with too."""
    head = os.pread(fd, _FIRST_LINE_MAX if not gz else 1 << 14, 0)
    if gz:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _FIRST_LINE_MAX)
        except zlib.error:
            return b""
    newline = head.find(b"\n")
    return head if newline < 0 else head[: newline + 1]


@dataclass(slots=True)
class RotatedFile:
    """One rotated file still being read: its descriptor, read position and held partial line.

    For a ``.gz`` sibling the position is in the decompressed stream and the file is read once to its end.
    """

    fd: int
    ident: Ident
    path: str
    """The name it had when the follower first met it (it may be called something else now)."""
    pos: int = 0
    split: LineSplitter = field(default_factory=LineSplitter)
    quiet_since: float = 0.0
    gz: gzip.GzipFile | None = None
    raw: BinaryIO | None = None

    @property
    def file_id(self) -> str:
        """``dev:inode``, as in every local batch."""
        return f"{self.ident[0]}:{self.ident[1]}"

    def read(self, name: str, budget: int, read_size: int, out: list[Item]) -> tuple[int, bool]:
        """Read up to ``budget`` bytes into batches; return bytes read and whether the end was reached."""
        used = 0
        while used < budget:
            want = min(read_size, budget - used)
            try:
                data = os.pread(self.fd, want, self.pos) if self.gz is None else self.gz.read(want)
            except (EOFError, zlib.error, gzip.BadGzipFile):
                data = b""  # a truncated archive: what decompressed is kept, the rest cannot be
            if data:
                lines, offsets = self.split.feed(data, self.pos)
                if lines:
                    out.append(LineBatch(name, lines, offsets, self.file_id, self.path))
                self.pos += len(data)
                used += len(data)
            if len(data) < want:
                return used, True
        return used, False

    def flush(self, name: str, out: list[Item]) -> None:
        """Emit the held partial line as a final line."""
        lines, offsets = self.split.flush()
        if lines:
            out.append(LineBatch(name, lines, offsets, self.file_id, self.path))

    def close(self) -> None:
        """Release the descriptor."""
        if self.gz is not None and self.raw is not None:
            self.gz.close()
            self.raw.close()
        os.close(self.fd)


class RotatedFiles:
    """The rotated files of one followed path, oldest first, plus every file identity already read."""

    def __init__(
        self,
        path: str,
        clock: Callable[[], float],
        read_size: int,
        *,
        siblings: Callable[[str], list[tuple[str, bool]]] | None = None,
    ) -> None:
        """Track rotated siblings of ``path`` (``path.1``, ``path.2.gz`` …), listed by ``siblings``."""
        self.path = path
        self._siblings = siblings or siblings_of
        self.files: list[RotatedFile] = []
        self.seen: dict[Ident, Seen] = {}
        """Closed files by identity, oldest first and bounded; a file that grew or changed since is looked
        at again. Never forgotten for being missed by one listing: a rotation in progress renames a file
        between the listing and its ``stat``. A deleted file's inode number may be reused, so an entry
        counts only while size and mtime match, or with the same first line."""
        self.heads: dict[bytes, None] = {}
        """First lines of the files read (newest last, bounded): a sibling starting with one is a copy."""
        self._clock = clock
        self._read_size = read_size

    def idents(self) -> set[Ident]:
        """Identities of the rotated files held open."""
        return {f.ident for f in self.files}

    def add_head(self, head: bytes) -> None:
        """Remember a first line read, so copies of that file are recognised."""
        if _is_key(head):
            self.heads[head] = None
            if len(self.heads) > _MAX_HEADS:
                del self.heads[next(iter(self.heads))]

    def adopt(self, rotated: RotatedFile) -> None:
        """Keep reading a file that just stopped being the live one (it comes after the older ones)."""
        rotated.quiet_since = self._clock()
        self.files.append(rotated)

    def scan(self, live: Ident, *, read: bool = True, history: bool = False) -> int:
        """Open the siblings never seen, oldest first; return how many were added.

        Args:
            live: Identity of the live file (never a sibling).
            read: False to only remember the siblings there now (history skipped).
            history: True for the first scan: every sibling is read, copies included.
        """
        added = 0
        for _ in range(4):
            # Names shift while a writer rotates, so the listing is repeated until a pass finds nothing new.
            found = 0
            for path, gz in self._siblings(self.path):
                found += self._consider(path, gz, live, read=read, history=history)
            added += found
            if not found:
                break
        return added

    def _consider(self, path: str, gz: bool, live: Ident, *, read: bool, history: bool) -> int:
        try:
            st = os.stat(path)
        except OSError:
            return 0
        ident = (st.st_dev, st.st_ino)
        known = self.seen.get(ident)
        if ident == live or ident in self.idents():
            return 0
        if known is not None and (st.st_size, st.st_mtime_ns) == (known.size, known.mtime_ns):
            return 0
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return 0
        if (st := os.fstat(fd)).st_ino != ident[1] or st.st_dev != ident[0]:
            os.close(fd)  # renamed again meanwhile: the next pass finds it under its new name
            return 0
        head = first_line(fd, gz)
        start = 0
        if known is not None and known.head == head:
            start = -1 if gz else known.size  # appended to after it was closed: only the new bytes
        elif not history and _is_key(head) and (head in self.heads or head in self._open_heads()):
            start = -1  # a copy of a file already read, or being read
        if start < 0 or not read or (not gz and start >= st.st_size):
            self._remember(ident, Seen(head, st.st_size, st.st_mtime_ns))
            os.close(fd)
            return 0
        rotated = RotatedFile(fd, ident, path, start)
        rotated.split.reset(start)
        if gz:
            rotated.raw = os.fdopen(fd, "rb", closefd=False)
            rotated.gz = gzip.GzipFile(fileobj=rotated.raw, mode="rb")
        self.adopt(rotated)
        self.add_head(head)
        return 1

    def _remember(self, ident: Ident, seen: Seen) -> None:
        self.seen.pop(ident, None)
        self.seen[ident] = seen
        if len(self.seen) > _MAX_SEEN:
            del self.seen[next(iter(self.seen))]

    def _open_heads(self) -> set[bytes]:
        return {first_line(f.fd, f.gz is not None) for f in self.files}

    def poll(self, name: str, budget: int, out: list[Item]) -> int:
        """Read the rotated files oldest first; close the drained ones that are gone or quiet."""
        used = 0
        now = self._clock()
        drained: list[RotatedFile] = []
        for rotated in self.files:
            if used >= budget:
                return used
            got, eof = rotated.read(name, budget - used, self._read_size, out)
            used += got
            if got:
                rotated.quiet_since = now
            if eof:
                drained.append(rotated)
        excess = len(self.files) - MAX_ROTATED_OPEN
        for rotated in drained:
            quiet = now - rotated.quiet_since >= ROTATED_GRACE_S
            if rotated.gz is not None or excess > 0 or quiet or _unlinked(rotated.fd):
                excess -= 1
                self._retire(rotated, name, out)
        return used

    def _retire(self, rotated: RotatedFile, name: str, out: list[Item]) -> None:
        # One last read: bytes appended between the end-of-file read and the unlink check.
        rotated.read(name, 1 << 62, self._read_size, out)
        rotated.flush(name, out)
        head = first_line(rotated.fd, rotated.gz is not None)
        self.add_head(head)
        if not _unlinked(rotated.fd):
            st = os.fstat(rotated.fd)
            size = st.st_size if rotated.gz is not None else rotated.pos
            self._remember(rotated.ident, Seen(head, size, st.st_mtime_ns))
        rotated.close()
        self.files.remove(rotated)

    def flush(self, name: str, out: list[Item]) -> None:
        """Emit every held partial line."""
        for rotated in self.files:
            rotated.flush(name, out)

    def close(self) -> None:
        """Close every rotated file."""
        for rotated in self.files:
            rotated.close()
        self.files.clear()


def _is_key(head: bytes) -> bool:
    # A complete first line, or a long one's first bytes: enough to recognise a copy of the file.
    return head.endswith(b"\n") or len(head) >= _FIRST_LINE_MAX


def _unlinked(fd: int) -> bool:
    try:
        return os.fstat(fd).st_nlink == 0
    except OSError:
        return True


def siblings_of(path: str) -> list[tuple[str, bool]]:
    """Rotated siblings ``path.N`` and ``path.N.gz`` that exist now, oldest first (plain before gz)."""
    directory, base = os.path.split(path)
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    found: list[tuple[int, bool, str]] = []
    for name in names:
        if not name.startswith(base + "."):
            continue
        suffix = name[len(base) + 1 :]
        gz = suffix.endswith(".gz")
        number = suffix.removesuffix(".gz")
        if number.isdigit():
            found.append((-int(number), gz, os.path.join(directory, name)))
    return [(p, gz) for _, gz, p in sorted(found)]
