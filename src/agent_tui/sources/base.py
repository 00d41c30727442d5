"""What every source yields and the protocol it implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

__all__ = ["LineBatch", "Source", "SourceState", "SourceStatus"]


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


class SourceState(Enum):
    """Connection state shown in the stats bar."""

    READING = "reading"
    FOLLOWING = "following"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ERROR = "error"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A change in a source's state, with a human-readable reason."""

    source: str
    state: SourceState
    reason: str = ""


class Source(Protocol):
    """An async producer of line batches and status changes."""

    name: str

    def stream(self) -> AsyncIterator[LineBatch | SourceStatus]:
        """Yield batches (history first, then live lines when following) and status changes."""
        ...

    async def close(self) -> None:
        """Stop reading and release files, processes and connections."""
        ...
