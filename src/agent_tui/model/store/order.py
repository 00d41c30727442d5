"""Display order of stored records: arrival order for one source, merged by time for several."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

from agent_tui.model.parsing.columns import newest_time

__all__ = ["DisplayOrder"]


class DisplayOrder:
    """Keeps ``seqs`` sorted by time (stable) once a second source makes arrival order wrong.

    Stays the identity (``range``) while only one source is read, or while every batch arrives in time
    order; after that, in-order batches are appended and out-of-order ones mark the order for a lazy
    re-sort, which Timsort does in about linear time (the old order is one sorted run).
    """

    def __init__(self) -> None:
        self._order = array("q")
        self._ordered = False
        self._dirty = False
        self._upto = 0
        self._max_ts = float("-inf")
        self.epoch = 0
        """Bumped whenever new records did not land at the end of the order."""

    @property
    def arrival(self) -> bool:
        """True while display order is plain arrival (seq) order."""
        return not self._ordered

    def note(self, first: int, ts: Sequence[float], ts_sorted: bool, sources: int) -> None:
        """Account for seqs ``first .. first + len(ts) - 1`` with times ``ts``."""
        in_order = ts_sorted and ts[0] >= self._max_ts
        newest = newest_time(ts, ts_sorted)
        self._max_ts = max(self._max_ts, newest)
        if not self._ordered:
            if sources > 1 and not in_order:
                self._ordered = True
                self._dirty = True
                self.epoch += 1
        elif in_order and not self._dirty:
            self._order.extend(range(first, first + len(ts)))
            self._upto = first + len(ts)
        else:
            self._dirty = True
            self.epoch += 1

    def evicted(self) -> None:
        """Records were evicted: drop them from the order at the next read."""
        if self._ordered:
            self._dirty = True

    def seqs(self, first: int, end: int, ts_of: Callable[[int], float]) -> Sequence[int]:
        """Seqs ``first .. end - 1`` in display order."""
        if not self._ordered:
            return range(first, end)
        if self._dirty:
            seqs = [s for s in self._order if s >= first]
            seqs.extend(range(max(self._upto, first), end))
            seqs.sort(key=ts_of)
            self._order = array("q", seqs)
            self._upto = end
            self._dirty = False
        return self._order
