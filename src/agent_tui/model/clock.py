"""Injectable clocks: the real wall clock and a frozen one for tests."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "FrozenClock", "SystemClock"]


class Clock(Protocol):
    """Anything that can tell the current time in epoch seconds."""

    def now(self) -> float:
        """Return the current time, epoch seconds UTC."""
        ...


class SystemClock:
    """The wall clock (``time.time``)."""

    __slots__ = ()

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()


class FrozenClock:
    """A clock that only moves when told to, for deterministic tests."""

    __slots__ = ("_t",)

    def __init__(self, t: float = 0.0) -> None:
        self._t = float(t)

    def now(self) -> float:
        """Return the frozen time."""
        return self._t

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._t += seconds

    def set(self, t: float) -> None:
        """Jump the clock to ``t``."""
        self._t = float(t)
