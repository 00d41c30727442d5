"""The batch of raw lines a source yields and the model ingests (at the bottom: imports nothing of ours)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LineBatch"]


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Complete lines read from one source in one go, without their trailing newline."""

    source: str
    """The source's display name (a path, a URL)."""
    lines: list[bytes]
    offsets: list[int] = field(default_factory=list)
    """Byte offset of each line in ``file_id`` (empty when the source has no addressable file)."""
    file_id: str = ""
    """Identity of the file the offsets refer to (``dev:inode`` for local files, a cursor base remotely)."""
    path: str = ""
    """Path of the file the lines were read from, when there is one (lets the store re-read lines)."""
    cursors: list[str] = field(default_factory=list)
    """Opaque per-line resume cursors for remote sources (empty for local ones)."""
    live: bool = False
    """Read after the source caught up with its history (it had announced ``following``): these lines
    arrived while being followed, whatever their timestamps say."""
