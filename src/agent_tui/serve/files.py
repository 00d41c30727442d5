"""The served directory: which files are sources, how they are named and identified, no path outside it."""

from __future__ import annotations

import os
import re
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LOG_SUFFIXES",
    "FileInfo",
    "PathRefused",
    "ServedDir",
    "file_id_of",
    "head_crc",
    "offset_of_last_lines",
    "same_file",
]

LOG_SUFFIXES = (".jsonl", ".ndjson", ".log", ".json")
_ROTATED = re.compile(r"^(?P<base>.+)\.(?P<n>\d+)$")
_HEAD = 64


class PathRefused(ValueError):
    """A requested source that is not a log file inside the served directory."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One live log file as listed by ``GET /api/sources``."""

    source: str
    size: int
    mtime: float
    dev: int
    ino: int


def head_crc(fd: int) -> str:
    """The crc of the file's first line (at most 64 bytes) as hex, ``-`` while no line is complete."""
    head = os.pread(fd, _HEAD, 0)
    newline = head.find(b"\n")
    if newline < 0:
        return "-" if len(head) < _HEAD else f"{zlib.crc32(head):08x}"
    return f"{zlib.crc32(head[: newline + 1]):08x}"


def file_id_of(fd: int) -> str:
    """The identity of an open file: ``dev.inode.headcrc`` in hex."""
    st = os.fstat(fd)
    return f"{st.st_dev:x}.{st.st_ino:x}.{head_crc(fd)}"


def same_file(fd: int, file_id: str, offset: int) -> bool:
    """Whether an open file is the one ``file_id`` names and is at least ``offset`` bytes long."""
    dev_ino, _, crc = file_id.rpartition(".")
    st = os.fstat(fd)
    if dev_ino != f"{st.st_dev:x}.{st.st_ino:x}" or st.st_size < offset:
        return False
    return offset == 0 or crc == "-" or crc == head_crc(fd)


class ServedDir:
    """The directory ``serve`` exposes; every name is checked to stay inside it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise NotADirectoryError(f"not a directory: {root}")

    def resolve(self, source: str) -> Path:
        """The real path of a source name, refusing anything that leaves the directory.

        Raises:
            PathRefused: absolute paths, ``..``, NUL bytes, symlinks pointing outside, non-files.
        """
        if not source or "\x00" in source or source.startswith(("/", "\\")) or os.path.isabs(source):
            raise PathRefused(f"source must be a relative path inside the served directory: {source!r}")
        parts = source.replace("\\", "/").split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise PathRefused(f"source may not contain '..', '.' or empty segments: {source!r}")
        real = Path(os.path.realpath(self.root / source))
        if real != self.root and self.root not in real.parents:
            raise PathRefused(f"source leaves the served directory: {source!r}")
        return real

    def is_log_name(self, name: str) -> bool:
        """Whether a file name is a live log (not a rotated sibling, not compressed)."""
        return name.endswith(LOG_SUFFIXES)

    def scan(self) -> dict[str, FileInfo]:
        """Every live log file under the directory, keyed by source name (symlinks leaving it skipped)."""
        found: dict[str, FileInfo] = {}
        self._scan_into(self.root, "", found, depth=0)
        return found

    def _scan_into(self, folder: Path, prefix: str, found: dict[str, FileInfo], depth: int) -> None:
        if depth > 8:
            return
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            name = prefix + entry.name
            try:
                if entry.is_dir():
                    if not entry.is_symlink():
                        self._scan_into(Path(entry.path), name + "/", found, depth + 1)
                    continue
                if not self.is_log_name(entry.name):
                    continue
                if entry.is_symlink():
                    self.resolve(name)
                st = entry.stat()
            except (OSError, PathRefused):
                continue
            if stat.S_ISREG(st.st_mode):
                found[name] = FileInfo(name, st.st_size, st.st_mtime, st.st_dev, st.st_ino)

    def chain(self, source: str) -> list[Path]:
        """The files of one source, oldest first: rotated siblings ``X.N`` (highest N first), then X."""
        live = self.resolve(source)
        siblings: list[tuple[int, Path]] = []
        try:
            entries = list(os.scandir(live.parent))
        except OSError:
            entries = []
        for entry in entries:
            match = _ROTATED.match(entry.name)
            if match and match["base"] == live.name and entry.is_file(follow_symlinks=False):
                siblings.append((int(match["n"]), Path(entry.path)))
        siblings.sort(key=lambda item: -item[0])
        return [path for _, path in siblings] + [live]


def offset_of_last_lines(fd: int, lines: int) -> int:
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
