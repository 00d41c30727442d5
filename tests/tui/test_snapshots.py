"""SVG snapshots of the two main screens (frozen clock, TZ=UTC, fixed size); kept few on purpose."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from agent_tui.tui.app import AgentTuiApp

from .conftest import Build, fleet_lines, screen_text, until

LINES = fleet_lines()[:-2]


async def stats_caught_up(pilot: Pilot[Any], app: AgentTuiApp) -> None:
    """The stats bar refreshes on its own at 4 Hz: wait until it shows what the model holds now."""
    await until(pilot, lambda: app.widgets.stats.snapshot == app.stats_snapshot(), what="stats bar refresh")


def test_logs_view_at_80x24(build: Build, snap_compare: Any) -> None:
    """The first screen a user sees at 80×24: stats bar, coloured rows ending at the newest, footer."""
    app, source = build()

    async def fill(pilot: Pilot[Any]) -> None:
        source.push(LINES)
        await until(pilot, lambda: app.logs.row_count == len(LINES))
        await stats_caught_up(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=fill)


def test_failing_trace_with_traceback_at_120x40(build: Build, snap_compare: Any) -> None:
    """After e and enter: the failing trace expanded, the failing span's traceback in the detail pane."""
    app, source = build()

    async def open_failure(pilot: Pilot[Any]) -> None:
        source.push(LINES)
        await until(pilot, lambda: app.logs.row_count == len(LINES))
        await pilot.press("e", "enter")
        await until(pilot, lambda: app.current_view == "traces")
        await until(pilot, lambda: 'File "casino/client.py", line 88' in screen_text(app))
        await stats_caught_up(pilot, app)

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_failure)
