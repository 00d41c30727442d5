"""RollingStats: windows sliding with a frozen clock, record-time history, rate history, tops."""

from __future__ import annotations

from typing import Any

import orjson

from agent_tui.model.clock import FrozenClock, SystemClock
from agent_tui.model.session import LogModel
from agent_tui.schema import Level
from agent_tui.sources.base import LineBatch

T0 = 1_772_582_400.0


def line(t: float, event: str = "tick", level: str = "info", **extra: Any) -> bytes:
    """One wire-schema line at ``T0 + t`` seconds (t < 1 h)."""
    ms = round(t * 1000)
    stamp = f"2026-03-04T00:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"
    return orjson.dumps({"ts": stamp, "level": level, "event": event, **extra})


def ingest(model: LogModel, *lines: bytes) -> None:
    """Ingest lines as one batch."""
    model.ingest(LineBatch("agent", list(lines)))


def test_frozen_clock_moves_only_when_told() -> None:
    """FrozenClock stays put until advanced; SystemClock reads the wall clock."""
    clock = FrozenClock(100.0)
    assert clock.now() == 100.0
    clock.advance(2.5)
    assert clock.now() == 102.5
    assert SystemClock().now() > 1_600_000_000


def test_following_windows_slide_with_the_clock() -> None:
    """When following, records count by arrival time and fall out of 1 m / 5 m / 15 m as the clock moves."""
    clock = FrozenClock(T0)
    model = LogModel(clock=clock, following=True)
    ingest(model, line(0, level="error"), line(0), line(0))
    clock.advance(120)
    ingest(model, line(0, level="warning"))
    stats = model.stats
    assert stats.counts(60)[Level.WARNING] == 1 and stats.counts(60)[Level.ERROR] == 0
    assert stats.counts(300)[Level.ERROR] == 1 and stats.counts(300)[Level.INFO] == 2
    clock.advance(250)  # the first batch is now 370 s old
    assert stats.counts(300)[Level.ERROR] == 0 and stats.counts(300)[Level.WARNING] == 1
    assert stats.counts(900)[Level.ERROR] == 1
    clock.advance(1000)
    assert sum(stats.counts(900).values()) == 0
    assert stats.counts(None) == {**dict.fromkeys(Level, 0), Level.INFO: 2, Level.ERROR: 1, Level.WARNING: 1}
    assert stats.total == 4


def test_history_counts_by_record_time() -> None:
    """Reading history, windows end at the newest record's time, whatever the clock says."""
    model = LogModel(clock=FrozenClock(0.0))
    ingest(model, *[line(t) for t in range(0, 600, 10)])
    ingest(model, line(599.5, level="critical"))
    stats = model.stats
    assert stats.counts(60)[Level.INFO] == 6
    assert stats.counts(60)[Level.CRITICAL] == 1
    assert stats.counts(300)[Level.INFO] == 30
    assert sum(stats.counts(900).values()) == 61


def test_history_out_of_order_batch() -> None:
    """A batch whose times go backwards lands each record in its own second."""
    model = LogModel(clock=FrozenClock(0.0))
    ingest(model, line(50), line(10), line(59, level="error"), line(5))
    assert model.stats.counts(10)[Level.ERROR] == 1
    assert sum(model.stats.counts(10).values()) == 2
    assert sum(model.stats.counts(60).values()) == 4


def test_rate_history_per_second() -> None:
    """rate_history gives records per second, oldest first, zeros for quiet seconds."""
    clock = FrozenClock(T0)
    model = LogModel(clock=clock, following=True)
    ingest(model, line(0), line(0))
    clock.advance(2)
    ingest(model, line(0), line(0), line(0))
    assert model.stats.rate_history(4) == [0, 2, 0, 3]
    clock.advance(1)
    assert model.stats.rate_history(4) == [2, 0, 3, 0]


def test_clock_jump_beyond_the_horizon_clears_the_ring() -> None:
    """After a quiet spell longer than 15 minutes, old seconds are not mistaken for new ones."""
    clock = FrozenClock(T0)
    model = LogModel(clock=clock, following=True)
    ingest(model, line(0))
    clock.advance(900)
    ingest(model, line(0), line(0))
    assert model.stats.rate_history(1) == [2]
    assert sum(model.stats.counts(900).values()) == 2


def test_top_events_and_error_types() -> None:
    """Top events skip raw lines; top error types count exceptions by type."""
    model = LogModel(clock=FrozenClock(0.0))
    err = {"type": "TimeoutError", "message": "slow"}
    ingest(
        model,
        line(0, "bet.placed"),
        line(1, "bet.placed"),
        line(2, "bet.failed", "error", error=err),
        line(3, "bet.failed", "error", error=err),
        line(4, "llm.failed", "error", error={"type": "RateLimitError", "message": "429"}),
        b"some plain text",
    )
    assert model.stats.top_events(2) == [("bet.placed", 2), ("bet.failed", 2)]
    assert model.stats.top_error_types(5) == [("TimeoutError", 2), ("RateLimitError", 1)]
    assert all(name != "some plain text" for name, _ in model.stats.top_events(10))
