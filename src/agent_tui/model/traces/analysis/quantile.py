"""Running quantiles (exact, nearest rank) in O(log n) per value: two heaps split at the quantile."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Protocol

from agent_tui.model.parsing.native import compiled

__all__ = ["Quantile", "RunningQuantile", "running_quantile"]

_push = heapq.heappush
_pop = heapq.heappop
_pushpop = heapq.heappushpop
_ceil = math.ceil
_isnan = math.isnan


class RunningQuantile:
    """The ``q`` quantile of every value added so far (nearest-rank definition)."""

    __slots__ = ("_high", "_low", "_n", "_q", "_queued", "_same", "q")

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
        self._same: dict[float, float] | None = {}
        """One float object per distinct value held (a float is 24 bytes, its heap slot 8): durations,
        costs and token counts repeat a lot. Dropped when most values are distinct."""

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
        low, high, queued, one = self._low, self._high, self._queued, self._one
        for value in queued:
            if low and value <= -low[0]:
                _push(low, one(-value))
            else:
                _push(high, one(value))
        self._n += len(queued)
        queued.clear()
        want = _ceil(self._q * self._n) or 1
        while len(low) < want and high:
            _push(low, one(-_pop(high)))
        while len(low) > want:
            _push(high, one(-_pop(low)))

    def _one(self, value: float) -> float:
        """The float object already held for ``value``, or ``value`` (kept for next time)."""
        same = self._same
        # Zeros stay apart (0.0 == -0.0 as keys, but the sign shows), and NaN equals nothing.
        if same is None or not value or _isnan(value):
            return value
        kept = same.setdefault(value, value)
        if kept is value and len(same) > 256 and 4 * len(same) > self._n:
            self._same = None  # mostly distinct: the table would cost more than it saves
        return kept

    def add(self, value: float) -> None:
        """Take in one value."""
        if self._queued:
            self._take_queued()
        low, one = self._low, self._one
        n = self._n = self._n + 1
        grow = (_ceil(self._q * n) or 1) - len(low)
        # With 0 <= q <= 1 the split moves by at most one place per value: one push, at most one pushpop.
        if grow == 1:
            if not low or value <= -low[0]:
                _push(low, one(-value))
            else:
                _push(low, one(-_pushpop(self._high, one(value))))
        elif grow == 0:
            if low and value < -low[0]:
                _push(self._high, one(-_pushpop(low, one(-value))))
            else:
                _push(self._high, one(value))
        else:
            self._add_slowly(value, grow + len(low))

    def _add_slowly(self, value: float, want: int) -> None:
        low, high, one = self._low, self._high, self._one
        if low and value <= -low[0]:
            _push(low, one(-value))
        else:
            _push(high, one(value))
        while len(low) < want and high:
            _push(low, one(-_pop(high)))
        while len(low) > want:
            _push(high, one(-_pop(low)))


class Quantile(Protocol):
    """What a running quantile offers (``RunningQuantile``, or its compiled twin)."""

    @property
    def value(self) -> float:
        """The quantile (0.0 when empty)."""
        ...

    def add(self, value: float, /) -> None:
        """Take in one value."""

    def later(self, value: float, /) -> None:
        """Take in one value when the quantile is next read."""

    def __len__(self) -> int: ...


compiled_quantile: Callable[[float], Quantile] | None = compiled("Quantile")
"""``_rowscan.Quantile``: ``RunningQuantile`` compiled (the same heaps, moved by a port of heapq, holding
C doubles: 8 bytes a value instead of 32), None where it was not built. One closed trace adds three or
four values: on 1 M lines (74 k traces) the heaps held 7 MB of float objects, the largest share of
``stats``' memory after the index itself."""


def running_quantile(q: float) -> Quantile:
    """A running ``q`` quantile: the compiled one where it was built."""
    make = compiled_quantile
    return make(q) if make is not None else RunningQuantile(q)
