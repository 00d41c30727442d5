"""The replay player: order, spacing divided by speed, pause, step and speed changes (no real waits)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_tui.model.replay import Cue, Player, ReplayClock, read_cues


class FakeTime:
    """A real-time clock that only moves when the player waits; each wait is recorded."""

    def __init__(self) -> None:
        self.t = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def wait(self, seconds: float, changed: asyncio.Event) -> None:
        self.waits.append(round(seconds, 9))
        self.t += seconds
        await asyncio.sleep(0)


def cues(*times: float) -> list[Cue]:
    return [Cue(1000.0 + t, "f", f"line {i}".encode()) for i, t in enumerate(times)]


async def test_lines_come_in_order_with_gaps_divided_by_speed() -> None:
    """At ×10, gaps of 0.5 s and 2 s become waits of 0.05 s and 0.2 s; equal times need no wait."""
    fake = FakeTime()
    played = cues(0, 0.5, 0.5, 2.5)
    clock = ReplayClock(played[0].at, 10.0, real=fake)
    got: list[tuple[float, bytes]] = []

    async def deliver(cue: Cue) -> None:
        got.append((clock.now(), cue.line))

    await Player(played, clock, fake.wait).play(deliver)
    assert [line for _, line in got] == [c.line for c in played]
    assert fake.waits == [0.05, 0.2]
    assert [t for t, _ in got] == pytest.approx([c.at for c in played])


async def test_speed_change_applies_to_the_rest_of_a_gap() -> None:
    """Doubling the speed mid-gap halves what is left of it."""
    fake = FakeTime()
    played = cues(0, 10)
    clock = ReplayClock(played[0].at, 1.0, real=fake)
    player = Player(played, clock, fake.wait)
    first_wait = True

    async def wait(seconds: float, changed: asyncio.Event) -> None:
        nonlocal first_wait
        if first_wait:
            first_wait = False
            fake.t += 4.0  # 4 of the 10 seconds pass, then the user presses +
            fake.waits.append(round(seconds, 9))
            player.set_speed(2.0)
            return
        await fake.wait(seconds, changed)

    player._wait = wait
    got: list[bytes] = []

    async def deliver(cue: Cue) -> None:
        got.append(cue.line)

    await player.play(deliver)
    assert fake.waits == [10.0, 3.0]
    assert got == [b"line 0", b"line 1"]


async def test_pause_holds_and_step_plays_one_record() -> None:
    """Paused, nothing plays and the clock stands; each step plays exactly one more record."""
    fake = FakeTime()
    played = cues(0, 1, 2, 3)
    clock = ReplayClock(played[0].at, 1.0, real=fake)
    player = Player(played, clock, fake.wait)
    got: list[bytes] = []

    async def deliver(cue: Cue) -> None:
        got.append(cue.line)

    player.toggle_pause()
    task = asyncio.create_task(player.play(deliver))
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == [] and "❚❚" in player.label
    fake.t += 100.0
    assert clock.now() == played[0].at
    for expected in (1, 2):
        player.step()
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(got) == expected and clock.now() == played[expected - 1].at
    player.toggle_pause()
    await asyncio.wait_for(task, 5)
    assert got == [c.line for c in played]


def test_files_are_merged_by_record_time_within_bounds(tmp_path: Path) -> None:
    """Two files interleave by time, each keeps its order; a raw line rides with the record before it."""
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_bytes(b'{"ts": 10, "event": "a1"}\nnot json\n{"ts": 30, "event": "a2"}\n')
    b.write_bytes(b'{"ts": 20, "event": "b1"}\r\n{"ts": 40, "event": "b2"}\r\n')
    merged = read_cues([str(tmp_path)])
    assert [c.line for c in merged] == [
        b'{"ts": 10, "event": "a1"}',
        b"not json",
        b'{"ts": 20, "event": "b1"}\r',
        b'{"ts": 30, "event": "a2"}',
        b'{"ts": 40, "event": "b2"}\r',
    ]
    bounded = read_cues([str(a), str(b)], since=15, until=35)
    assert [c.at for c in bounded] == [20, 30]
