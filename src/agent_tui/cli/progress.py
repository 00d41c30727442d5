"""Progress of a long index on one stderr line, for terminals only: redrawn in place, then erased."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["StderrProgress", "progress_for"]

_EVERY_S = 0.1


def _count(n: int) -> str:
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k" if n < 100_000 else f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


class StderrProgress:
    """``indexing NAME 43% · 1.2M lines`` redrawn in place; ``close`` erases it so output stays clean.

    Args:
        name: What is being indexed (a path; shown as given).
        stream: Where to draw (a terminal).
        clock: Monotonic seconds (injected for tests).
        verb: What is being done (``indexing``, ``scanning``).
        unit: What the count counts (``lines``, ``matches``).
    """

    def __init__(
        self,
        name: str,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        *,
        verb: str = "indexing",
        unit: str = "lines",
    ) -> None:
        self.name = name
        self._verb = verb
        self._unit = unit
        self._stream = stream
        self._clock = clock
        self._last = float("-inf")
        self._drawn = False

    def __call__(self, done: int, total: int, records: int) -> None:
        """Report ``done`` of ``total`` bytes and ``records`` indexed (drawn at most 10 times a second)."""
        now = self._clock()
        if now - self._last < _EVERY_S:
            return
        self._last = now
        percent = min(100, done * 100 // total) if total else 100
        # The name is the user's own argument; \r and escapes in it could still garble the line.
        name = self.name.encode("ascii", "backslashreplace").decode().replace("\x1b", "?")
        self._stream.write(f"\r\x1b[K{self._verb} {name} {percent}% · {_count(records)} {self._unit}")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the progress line (if one was drawn)."""
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False


def _tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def progress_for(
    name: str, stream: TextIO, *, verb: str = "indexing", unit: str = "lines", output: object = None
) -> StderrProgress | None:
    """A progress line on ``stream`` when it is a terminal, else None (pipes and logs get no noise).

    None too when ``output`` (where results are printed) is a terminal: the line would cut into them.
    """
    if not _tty(stream) or _tty(output):
        return None
    return StderrProgress(name, stream, verb=verb, unit=unit)
