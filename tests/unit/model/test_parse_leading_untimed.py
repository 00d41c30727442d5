"""Lines before a source's first timed line take that line's time, not the wall clock."""

from __future__ import annotations

from agent_tui.model.parsing.parse import LineParser

WALL_CLOCK = 2_000_000_000.0


def test_leading_untimed_lines_take_the_first_timed_lines_time() -> None:
    """A banner and a non-JSON line at the top of a file sit at the first record's time, still marked."""
    parser = LineParser(now=lambda: WALL_CLOCK)
    rows = parser.parse_batch(
        [
            b"agent starting up",
            b'{"level":"info","event":"no time here"}',
            b'{"ts":"2026-03-04T03:21:44.312Z","level":"info","event":"first timed"}',
            b"a later plain line",
        ]
    )
    times = [parsed.ts for _, parsed in rows]
    inferred = [parsed.ts_inferred for _, parsed in rows]
    first_timed = times[2]
    assert first_timed < WALL_CLOCK - 1e6
    assert times == [first_timed] * 4
    assert inferred == [True, True, False, True]


def test_untimed_batch_without_any_time_falls_back_to_now() -> None:
    """With no time anywhere yet, the only clock left is now(), and later batches keep to it."""
    parser = LineParser(now=lambda: WALL_CLOCK)
    ((_, only),) = parser.parse_batch([b"just text"])
    assert only.ts == WALL_CLOCK and only.ts_inferred
    ((_, later),) = parser.parse_batch([b"more text"])
    assert later.ts == WALL_CLOCK


def test_backdating_is_only_for_the_start_of_a_source() -> None:
    """Once a source has a time, an untimed line takes the previous record's time as before."""
    parser = LineParser(now=lambda: WALL_CLOCK)
    parser.parse_batch([b'{"ts":"2026-03-04T03:21:44.000Z","event":"a"}'])
    rows = parser.parse_batch([b"plain", b'{"ts":"2026-03-04T03:21:50.000Z","event":"b"}'])
    assert rows[0][1].ts == 1772594504.0
    assert rows[1][1].ts == 1772594510.0
