"""Running quantiles (exact, nearest rank) in O(log n) per value: two heaps split at the quantile."""

from __future__ import annotations

import heapq
import math

__all__ = ["RunningQuantile"]


class RunningQuantile:
    """The ``q`` quantile of every value added so far (nearest-rank definition)."""

    __slots__ = ("_high", "_low", "q")

    def __init__(self, q: float) -> None:
        self.q = q
        self._low: list[float] = []
        """Max-heap (negated) of the ``ceil(q n)`` smallest values."""
        self._high: list[float] = []
        """Min-heap of the rest."""

    def __len__(self) -> int:
        return len(self._low) + len(self._high)

    @property
    def value(self) -> float:
        """The quantile (0.0 when empty)."""
        return -self._low[0] if self._low else 0.0

    def add(self, value: float) -> None:
        """Take in one value."""
        low, high = self._low, self._high
        if low and value <= -low[0]:
            heapq.heappush(low, -value)
        else:
            heapq.heappush(high, value)
        want = max(1, math.ceil(self.q * (len(low) + len(high))))
        while len(low) < want:
            heapq.heappush(low, -heapq.heappop(high))
        while len(low) > want:
            heapq.heappush(high, -heapq.heappop(low))
