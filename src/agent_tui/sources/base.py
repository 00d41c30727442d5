"""What every source yields (``LineBatch`` lives in ``agent_tui.batch``) and the protocol it implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from agent_tui.batch import LineBatch

__all__ = ["LineBatch", "Source", "SourceState", "SourceStatus"]


class SourceState(Enum):
    """Connection state shown in the stats bar."""

    READING = "reading"
    FOLLOWING = "following"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    WAITING = "waiting"
    """Following a path that does not exist yet: read once it appears (not an error)."""
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
