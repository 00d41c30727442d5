"""``DeadLetterWatch``: a dead-letter database re-read only when its files change (for live views)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

from agent_tui.model.deadletters.reader import (
    MAX_ROWS,
    DeadLetterDbError,
    DeadLetterQuery,
    DeadLetterTable,
    read_dead_letters,
)

__all__ = ["DeadLetterWatch"]


class DeadLetterWatch:
    """Re-reads one database when its files change (stat of the db and its -wal), never keeping it open.

    Each poll that finds a change opens, reads and closes; an unchanged file costs two ``stat`` calls.
    A full re-read every ``refresh_s`` covers a change that left size and mtime equal.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        refresh_s: float = 10.0,
        timeout: float = 0.5,
        limit: int = MAX_ROWS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watch ``path``: all entries, unresolved first, at most ``limit``; a read waits ``timeout``."""
        self.path = str(path)
        self.query = DeadLetterQuery(include_resolved=True, unresolved_first=True, limit=limit)
        self._refresh_s, self._timeout, self._clock = refresh_s, timeout, clock
        self._seen: object = None
        self._read_at = -math.inf

    def _signature(self) -> tuple[tuple[int, int, int] | None, ...]:
        out: list[tuple[int, int, int] | None] = []
        for name in (self.path, f"{self.path}-wal"):
            try:
                st = os.stat(name)
            except OSError:
                out.append(None)
            else:
                out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def poll(self) -> DeadLetterTable | DeadLetterDbError | None:
        """The table (every entry) or the reason it cannot be read; None when nothing changed."""
        signature = self._signature()
        now = self._clock()
        if signature == self._seen and now - self._read_at < self._refresh_s:
            return None
        self._read_at = now
        try:
            result: DeadLetterTable | DeadLetterDbError = read_dead_letters(
                self.path, self.query, timeout=self._timeout
            )
        except DeadLetterDbError as exc:
            result = exc
            # A locked or missing file is retried at the next poll, not only when it changes.
            signature = ()
        self._seen = signature
        return result
