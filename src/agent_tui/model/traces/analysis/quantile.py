"""Running quantiles (exact, nearest rank) in O(log n) per value: two heaps split at the quantile."""

from __future__ import annotations

import heapq
import math

__all__ = ["RunningQuantile"]

_push = heapq.heappush
_pop = heapq.heappop
_pushpop = heapq.heappushpop
_ceil = math.ceil


class RunningQuantile:
    """The ``q`` quantile of every value added so far (nearest-rank definition)."""

    __slots__ = ("_high", "_low", "_n", "_q", "_queued", "q")

    def __init__(self, q: float) -> None:
        self.q = q
        self._q = max(q, 0.0)
        """``q`` where ``ceil(q n) or 1`` is ``max(1, ceil(q n))``."""
        self._n = 0
        self._low: list[float] = []
        """Max-heap (negated) of the ``ceil(q n)`` smallest values."""
        self._high: list[float] = []
        """Min-heap of the rest."""
        self._queued: list[float] = []
        """Values given to ``later``, not in the heaps yet."""

    def __len__(self) -> int:
        return self._n + len(self._queued)

    @property
    def value(self) -> float:
        """The quantile (0.0 when empty)."""
        if self._queued:
            self._take_queued()
        low = self._low
        return -low[0] if low else 0.0

    def later(self, value: float) -> None:
        """Take in one value when the quantile is next read (cheaper for a quantile read rarely)."""
        self._queued.append(value)

    def _take_queued(self) -> None:
        # Each queued value joins its side of the split (every value of ``low`` stays <= every value of
        # ``high``), then the tops move across once: ``low`` ends with the same smallest values as one
        # ``add`` at a time would leave there.
        low, high, queued = self._low, self._high, self._queued
        for value in queued:
            if low and value <= -low[0]:
                _push(low, -value)
            else:
                _push(high, value)
        self._n += len(queued)
        queued.clear()
        want = _ceil(self._q * self._n) or 1
        while len(low) < want and high:
            _push(low, -_pop(high))
        while len(low) > want:
            _push(high, -_pop(low))

    def add(self, value: float) -> None:
        """Take in one value."""
        if self._queued:
            self._take_queued()
        low = self._low
        n = self._n = self._n + 1
        grow = (_ceil(self._q * n) or 1) - len(low)
        # With 0 <= q <= 1 the split moves by at most one place per value: one push, at most one pushpop.
        if grow == 1:
            if not low or value <= -low[0]:
                _push(low, -value)
            else:
                _push(low, -_pushpop(self._high, value))
        elif grow == 0:
            if low and value < -low[0]:
                _push(self._high, -_pushpop(low, -value))
            else:
                _push(self._high, value)
        else:
            self._add_slowly(value, grow + len(low))

    def _add_slowly(self, value: float, want: int) -> None:
        low, high = self._low, self._high
        if low and value <= -low[0]:
            _push(low, -value)
        else:
            _push(high, value)
        while len(low) < want and high:
            _push(low, -_pop(high))
        while len(low) > want:
            _push(high, -_pop(low))
