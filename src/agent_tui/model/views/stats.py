"""Rolling per-level counts (1 m / 5 m / 15 m / total), a per-second rate history, top events and errors."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from operator import add
from typing import TYPE_CHECKING

from agent_tui.model.clock import Clock, SystemClock
from agent_tui.model.parsing.columns import newest_time
from agent_tui.schema import Level

if TYPE_CHECKING:
    from agent_tui.model.store.index import Appended

__all__ = ["WINDOWS", "RollingStats"]

WINDOWS = (60.0, 300.0, 900.0)
"""The windows the stats bar shows, in seconds."""
_LEVELS = tuple(Level)
_SLOT = [0] * 256
for _i, _level in enumerate(_LEVELS):
    _SLOT[_level] = _i
_WIDTH = len(_LEVELS)
_TOP_CAP = 50_000


class RollingStats:
    """Counts per level in one-second buckets over a ring of ``horizon_s`` seconds.

    Args:
        clock: the clock used when ``following`` (arrival time) and for "now".
        following: count records by arrival time (live tail) instead of their own time (history).
        horizon_s: how many seconds of per-second buckets to keep (the largest window).
    """

    def __init__(self, clock: Clock | None = None, *, following: bool = False, horizon_s: int = 900) -> None:
        self.clock = clock or SystemClock()
        self.following = following
        self.horizon = horizon_s
        self.total = 0
        self._totals: Counter[int] = Counter()
        self._ring = array("I", bytes(4 * horizon_s * _WIDTH))
        self._per_second = array("I", bytes(4 * horizon_s))
        self._head: int | None = None  # newest second held in the ring
        self._latest_ts = float("-inf")
        self._events: Counter[str] = Counter()
        self._error_types: Counter[str] = Counter()
        self._counts_cache: dict[float, tuple[tuple[float, int, int, int], dict[Level, int]]] = {}

    def add(self, batch: Appended) -> None:
        """Count one appended batch (C-level counting per second of the batch; O(1) amortised per record)."""
        n = batch.count
        if not n:
            return
        levels = batch.level_bytes or bytes(batch.levels)
        self.total += n
        totals = self._totals
        for level in _LEVELS:
            found = levels.count(level)
            if found:
                totals[level] += found
        newest = newest_time(batch.ts, batch.ts_sorted)
        self._latest_ts = max(self._latest_ts, newest)
        if self.following:
            self._add_run(int(self.clock.now()), levels, 0, n)
        elif batch.ts_sorted:
            ts = batch.ts
            i = 0
            while i < n:
                second = int(ts[i] // 1)
                j = bisect_left(ts, second + 1, i)
                self._add_run(second, levels, i, j)
                i = j
        else:
            for k, t in enumerate(batch.ts):
                self._add_run(int(t // 1), levels, k, k + 1)
        self._count_names(batch)

    def _count_names(self, batch: Appended) -> None:
        raws = batch.raws
        if True in raws:
            self._events.update(e for e, r in zip(batch.events, raws, strict=True) if not r)
        else:
            self._events.update(batch.events)
        if len(self._events) > _TOP_CAP:
            self._events = Counter(dict(self._events.most_common(_TOP_CAP // 5)))
        if batch.errors.count(None) != len(raws):
            self._error_types.update(e.type for e in batch.errors if e is not None)

    def _advance(self, second: int) -> None:
        head = self._head
        size = self.horizon
        if head is None or second - head >= size:
            self._ring = array("I", bytes(4 * size * _WIDTH))
            self._per_second = array("I", bytes(4 * size))
        else:
            ring, per = self._ring, self._per_second
            for s in range(head + 1, second + 1):
                slot = s % size
                per[slot] = 0
                ring[slot * _WIDTH : slot * _WIDTH + _WIDTH] = array("I", bytes(4 * _WIDTH))
        self._head = second

    def _add_run(self, second: int, levels: bytes, i: int, j: int) -> None:
        """Count ``levels[i:j]``, all in ``second``."""
        if self._head is None or second > self._head:
            self._advance(second)
        head = self._head
        assert head is not None
        if second <= head - self.horizon:
            return
        slot = second % self.horizon
        base = slot * _WIDTH
        ring = self._ring
        if j - i == 1:
            ring[base + _SLOT[levels[i]]] += 1
        else:
            for index, level in enumerate(_LEVELS):
                found = levels.count(level, i, j)
                if found:
                    ring[base + index] += found
        self._per_second[slot] += j - i

    def now(self) -> float:
        """Window end: the clock when following, else the newest record time seen."""
        if self.following or self._latest_ts == float("-inf"):
            return self.clock.now()
        return self._latest_ts

    def counts(self, window_s: float | None = None) -> dict[Level, int]:
        """Records per level over the last ``window_s`` seconds (None = since the start)."""
        if window_s is None:
            return {level: self._totals.get(level, 0) for level in _LEVELS}
        head = self._head
        if head is None:
            return dict.fromkeys(_LEVELS, 0)
        end = int(self.now() // 1)
        key = (window_s, end, head, self.total)
        cached = self._counts_cache.get(window_s)
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        start = max(end - int(window_s) + 1, head - self.horizon + 1)
        stop = min(end, head) + 1
        sums = [0] * _WIDTH
        ring, size = self._ring, self.horizon
        for second in range(start, stop):
            base = (second % size) * _WIDTH
            # One slice per second; the per-level sums run in C.
            sums = list(map(add, sums, ring[base : base + _WIDTH]))
        out = dict(zip(_LEVELS, sums, strict=True))
        self._counts_cache[window_s] = (key, out)
        return dict(out)

    def rate_history(self, seconds: int) -> list[int]:
        """Records per second for the last ``seconds`` seconds, oldest first (zeros where unknown)."""
        head = self._head
        if head is None:
            return [0] * seconds
        end = int(self.now() // 1)
        out = []
        for second in range(end - seconds + 1, end + 1):
            inside = head - self.horizon < second <= head
            out.append(self._per_second[second % self.horizon] if inside else 0)
        return out

    def top_events(self, n: int) -> list[tuple[str, int]]:
        """The ``n`` most frequent events (raw lines excluded)."""
        return self._events.most_common(n)

    def top_error_types(self, n: int) -> list[tuple[str, int]]:
        """The ``n`` most frequent exception types."""
        return self._error_types.most_common(n)
