"""Replaying recorded lines on a scaled clock: cues in record-time order, a replay clock, a player."""

from __future__ import annotations

import asyncio
import gzip
import heapq
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from agent_tui.model.parsing.parse import LineParser

__all__ = ["Cue", "Player", "ReplayClock", "read_cues"]

_SUFFIXES = (".jsonl", ".log", ".json", ".gz")


@dataclass(frozen=True, slots=True)
class Cue:
    """One recorded line, when it was written (its record time), and where it came from."""

    at: float
    source: str
    line: bytes
    """The line's bytes without its ``\\n`` (``\\r`` of CRLF files kept)."""


def _files(path: str) -> list[str]:
    if not os.path.isdir(path):
        return [path]
    found = (os.path.join(path, name) for name in sorted(os.listdir(path)))
    return [f for f in found if f.endswith(_SUFFIXES) and os.path.isfile(f)]


def _lines(path: str) -> list[bytes]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        data: bytes = fh.read()
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _timed(path: str) -> list[Cue]:
    """A file's lines with their record times (lines without a record take the nearest record's)."""
    lines = _lines(path)
    columns = LineParser().parse_columns(lines)
    times: list[float | None] = [None] * len(lines)
    for index, ts in zip(columns.index, columns.ts, strict=True):
        seen = times[index]
        times[index] = ts if seen is None else min(seen, ts)
    after: float | None = None
    for i in range(len(times) - 1, -1, -1):
        # Lines that make no record of their own (joined Docker partials) go out with the line after.
        after = times[i] = times[i] if times[i] is not None else after
    known = [t for t in times if t is not None]
    last = known[0] if known else 0.0
    cues = []
    for line, stamp in zip(lines, times, strict=True):
        if stamp is not None:
            last = stamp
        cues.append(Cue(last, path, line))
    return cues


def read_cues(paths: Sequence[str], since: float | None = None, until: float | None = None) -> list[Cue]:
    """Every line of ``paths`` (files, ``.gz``, directories), merged by record time, within the bounds.

    Each file keeps its own line order; files are interleaved by time as they were written.
    """
    files = [f for path in paths for f in _files(path)]
    merged: Iterable[Cue] = heapq.merge(*(_timed(f) for f in files), key=lambda cue: cue.at)
    return [c for c in merged if (since is None or c.at >= since) and (until is None or c.at <= until)]


class ReplayClock:
    """Record time as the replay has reached it: it runs ``speed`` times faster than the real clock.

    Args:
        start: the record time the replay starts at.
        speed: record seconds per real second.
        real: the real monotonic clock (injected in tests).
    """

    def __init__(self, start: float, speed: float = 1.0, real: Callable[[], float] = time.monotonic) -> None:
        self._real = real
        self._virtual = start
        self._anchor = real()
        self.speed = speed
        self.paused = False

    def now(self) -> float:
        """The replay's current record time."""
        if self.paused:
            return self._virtual
        return self._virtual + (self._real() - self._anchor) * self.speed

    def set(self, t: float) -> None:
        """Jump to record time ``t`` (a record was just played at it)."""
        self._virtual = t
        self._anchor = self._real()

    def set_speed(self, speed: float) -> None:
        """Change speed from now on."""
        self.set(self.now())
        self.speed = speed

    def pause(self, paused: bool) -> None:
        """Stop (or restart) the clock where it is."""
        self.set(self.now())
        self.paused = paused


Wait = Callable[[float, asyncio.Event], Awaitable[None]]
"""``wait(seconds, changed)``: sleep up to ``seconds`` of real time, or until ``changed`` is set."""


async def wait_or_change(seconds: float, changed: asyncio.Event) -> None:
    """The real ``Wait``: an asyncio timeout on the change event."""
    try:
        await asyncio.wait_for(changed.wait(), seconds)
    except TimeoutError:
        return


class Player:
    """Plays cues at their record times on a ``ReplayClock``; pause, step and speed act at once.

    Args:
        cues: what to play, in order.
        clock: the replay clock (starts at the first cue's time).
        wait: how to wait real time (tests inject one that returns at once and moves ``clock``'s real time).
    """

    def __init__(self, cues: Sequence[Cue], clock: ReplayClock, wait: Wait = wait_or_change) -> None:
        self.cues = cues
        self.clock = clock
        self._wait = wait
        self._changed = asyncio.Event()
        self._steps = 0
        self.played = 0

    @property
    def label(self) -> str:
        """``REPLAY ×10`` (``❚❚`` when paused), for the stats bar."""
        return f"REPLAY ×{self.clock.speed:g}" + (" ❚❚" if self.clock.paused else "")

    def toggle_pause(self) -> bool:
        """Pause or resume; return whether it is now paused."""
        self.clock.pause(not self.clock.paused)
        self._changed.set()
        return self.clock.paused

    def step(self) -> None:
        """Play the next record now (and stay paused)."""
        if not self.clock.paused:
            self.clock.pause(True)
        self._steps += 1
        self._changed.set()

    def set_speed(self, speed: float) -> None:
        """Play ``speed`` times faster than recorded (clamped to 1/64 … 4096)."""
        self.clock.set_speed(min(4096.0, max(1 / 64, speed)))
        self._changed.set()

    async def play(self, deliver: Callable[[Cue], Awaitable[None]]) -> None:
        """Hand each cue to ``deliver`` when its time comes."""
        for cue in self.cues:
            await self._until(cue.at)
            if cue.at > self.clock.now() or self.clock.paused:
                self.clock.set(cue.at)
            self.played += 1
            await deliver(cue)

    async def _until(self, at: float) -> None:
        clock = self.clock
        while True:
            if self._steps:
                self._steps -= 1
                return
            if clock.paused:
                self._changed.clear()
                await self._changed.wait()
                continue
            gap = at - clock.now()
            if gap <= 0:
                return
            self._changed.clear()
            await self._wait(gap / clock.speed, self._changed)


def batches(cues: Iterable[Cue], limit: int = 512) -> Iterator[list[Cue]]:
    """Consecutive cues of one source, at most ``limit`` at a time."""
    run: list[Cue] = []
    for cue in cues:
        if run and (cue.source != run[0].source or len(run) >= limit):
            yield run
            run = []
        run.append(cue)
    if run:
        yield run
