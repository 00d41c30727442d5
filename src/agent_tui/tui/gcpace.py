"""Keeps the growing index out of Python's full garbage collections while lines pour in."""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["FREEZE_RECORDS", "GcPacer"]

FREEZE_RECORDS: Final = 20_000
"""Records ingested between two freezes."""


class GcPacer:
    """Every ``every`` ingested records: collect the young generations, then freeze what survived.

    CPython runs a full collection each time the heap grows by a quarter, and a full collection walks
    every object the index holds: while following 300 k lines that was 4 pauses of up to 150 ms (a
    stuck key) and a fifth of the CPU per line, measured. Frozen objects are never walked again. The
    price: a cycle among frozen objects that dies later is not freed; young cycles are collected before
    each freeze, and the history load (``HistoryMerge``) already freezes its index the same way.
    """

    def __init__(self, every: int = FREEZE_RECORDS, *, paused_at_start: bool = False) -> None:
        self._every = every
        self._since = 0
        self._paused_at_start = paused_at_start

    def started(self, *, history_holds: bool) -> None:
        """The first rows are on screen: end the pause ``agent-tui`` starts with (``cli.tui.run``).

        What start-up built (modules, classes, the screen) lives as long as the process, so it is frozen
        rather than collected (which would walk all of it once more). A history load that turned
        collection off keeps it off until it settles.
        """
        if not self._paused_at_start:
            return
        self._paused_at_start = False
        gc.freeze()
        if not history_holds:
            gc.enable()

    def grew(self, count: int) -> bool:
        """Note ``count`` more records; True when this froze the heap."""
        self._since += count
        if self._since < self._every or not gc.isenabled():
            # Disabled: a history load owns collection until it settles.
            return False
        self._since = 0
        gc.collect(1)
        gc.freeze()
        return True
