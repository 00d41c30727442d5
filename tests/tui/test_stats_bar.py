"""Pilot tests of the stats bar at 80×24: a failing source's reason and the total counts both stay visible."""

from __future__ import annotations

from agent_tui.model.clock import FrozenClock
from agent_tui.sources.base import SourceState
from agent_tui.tui.app import AgentTuiApp

from .conftest import Build, fleet_lines, screen_text, until

N = len(fleet_lines())


def _line(app: AgentTuiApp, index: int) -> str:
    """Line ``index`` of the screen (0 and 1 are the stats bar)."""
    return screen_text(app).splitlines()[index]


async def test_source_error_reason_does_not_push_the_counts_off_at_80_columns(build: Build) -> None:
    """A long source error is cut to the first line; the second line still shows every window's counts."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        source.status(SourceState.ERROR, "fleet.jsonl: permission denied while reopening after rotation")
        await until(pilot, lambda: "permission" in screen_text(app))
        # The counts line refreshes on its own (4 Hz): wait for the one that counted the whole batch.
        await until(pilot, lambda: _line(app, 1).rstrip().endswith("all 1/3/1/30"))
        first, second = screen_text(app).splitlines()[:2]
        assert "src 1 error fleet.jsonl: permission" in first
        assert "fleet.jsonl: fleet.jsonl" not in first
        assert "1m " in second and " all " in second


async def test_counts_line_fits_80_columns_with_big_counts(build: Build) -> None:
    """With five-digit counts the counts line shortens its label instead of cutting off the totals."""
    app, source = build()
    lines = fleet_lines() * 500
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(lines)
        await until(pilot, lambda: app.logs.row_count == len(lines), limit=60)
        app.refresh_stats()
        await until(pilot, lambda: " all 500/1500/500/15.0k" in _line(app, 1))
        assert "…" not in _line(app, 1)


async def test_following_rate_shows_the_last_complete_second(build: Build, clock: FrozenClock) -> None:
    """While following, the rate is the last whole second's count, not the second still filling up (0/s)."""
    app, source = build(follow=True)
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        clock.advance(1.0)
        app.refresh_stats()
        await until(pilot, lambda: f" {N}/s " in _line(app, 0))


async def test_moving_up_while_a_source_is_live_says_follow_off_not_static(build: Build) -> None:
    """With a live source, leaving follow mode reads 'FOLLOW OFF (f)'; a finished source reads 'STATIC'."""
    app, source = build(follow=True)
    async with app.run_test(notifications=True, size=(100, 24)) as pilot:
        source.status(SourceState.FOLLOWING)
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("k", "k")
        await until(pilot, lambda: not app.follow_mode)
        app.refresh_stats()
        await until(pilot, lambda: _line(app, 0).startswith(" ■ FOLLOW OFF (f) "))
        source.status(SourceState.DONE)
        await until(pilot, lambda: app.source_states[source.name][0] == "done")
        app.refresh_stats()
        await until(pilot, lambda: _line(app, 0).startswith(" ■ STATIC "))
