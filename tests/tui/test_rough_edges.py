"""Pilot tests of the rough edges a new user trips on: G, levels in traces, paused counts, waiting, help."""

from __future__ import annotations

from pathlib import Path

from agent_tui.model.clock import FrozenClock
from agent_tui.schema import Level
from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from agent_tui.tui.factory import make_app
from agent_tui.tui.keys import KEYS
from agent_tui.tui.screens.help import HelpScreen

from .conftest import (
    FAIL_TRACE,
    T0,
    Build,
    QueueSource,
    fleet_lines,
    line,
    screen_text,
    selected_event,
    until,
)

N = len(fleet_lines())


async def test_G_goes_to_the_newest_record_and_follows_again(build: Build) -> None:
    """After moving up (follow off), G selects the newest row, turns follow on, and new lines are followed."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.cursor == N - 1)
        await pilot.press("k", "k", "k")
        await until(pilot, lambda: app.logs.cursor == N - 4)
        assert app.follow_mode is False
        await pilot.press("G")
        await until(pilot, lambda: app.follow_mode and app.logs.cursor == N - 1)
        await until(pilot, lambda: "FOLLOW OFF" not in screen_text(app) and "▶ FOLLOW" in screen_text(app))
        source.push([line(T0 + 40, "info", "late.arrival")])
        await until(pilot, lambda: app.logs.cursor == N)
        await until(pilot, lambda: selected_event(app) == "late.arrival")


async def test_level_keys_filter_the_traces_view(build: Build) -> None:
    """4 lists only traces with an error, 5 only those with a critical, 1 every trace again."""
    app, source = build()
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("t")
        await until(pilot, lambda: len(app.traces_view.nodes) == 9)
        everything = set(app.traces_view.nodes)
        assert FAIL_TRACE in everything
        await pilot.press("4")
        await until(pilot, lambda: set(app.traces_view.nodes) == {FAIL_TRACE})
        await until(pilot, lambda: "t_ok000000" not in screen_text(app))
        await pilot.press("5")
        await until(pilot, lambda: set(app.traces_view.nodes) == set())
        source.push([line(T0 + 50, "critical", "ledger.broken", trace_id="t_crit", span_id="c" * 16)])
        await until(pilot, lambda: set(app.traces_view.nodes) == {"t_crit"})
        await pilot.press("1")
        await until(pilot, lambda: set(app.traces_view.nodes) == everything | {"t_crit"})


async def test_level_option_filters_traces_and_shows_in_the_stats_bar(tmp_path: Path) -> None:
    """--level error (min_level) lists only failing traces and the stats bar says ≥error."""
    source = QueueSource()
    app = make_app(
        [source], clock=FrozenClock(T0 + 30), export_dir=tmp_path, environ={}, min_level=Level.ERROR
    )
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.model.store.end_seq == N)
        await until(pilot, lambda: "≥error" in screen_text(app))
        await pilot.press("t")
        await until(
            pilot, lambda: app.current_view == "traces" and set(app.traces_view.nodes) == {FAIL_TRACE}
        )


async def test_paused_shown_count_stays_with_the_frozen_rows(build: Build) -> None:
    """While paused the bar's shown count is the frozen rows' count; the total keeps counting."""
    app, source = build()
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("space")
        await until(pilot, lambda: app.paused)
        source.push([line(T0 + 40 + i, "info", "while.paused") for i in range(5)])
        await until(pilot, lambda: len(app.model.store) == N + 5)
        await until(pilot, lambda: f"{N}/{N + 5} shown" in screen_text(app))
        assert app.logs.row_count == N
        await pilot.press("space")
        await until(pilot, lambda: f"{N + 5}/{N + 5} shown" in screen_text(app))


async def test_followed_file_that_does_not_exist_yet_shows_waiting_not_an_error(tmp_path: Path) -> None:
    """--follow on a missing file says 'waiting' (no error text); its lines show once it is created."""
    path = tmp_path / "late.jsonl"
    source = open_source(str(path), SourceOptions(follow=True, poll_interval=0.02))
    app = make_app([source], clock=FrozenClock(T0 + 30), follow=True, export_dir=tmp_path, environ={})
    async with app.run_test(notifications=True, size=(120, 24)) as pilot:
        await until(pilot, lambda: "1 waiting" in screen_text(app))
        bar = screen_text(app).splitlines()[0]
        assert "error" not in bar and "No such file" not in bar
        assert app.source_states[str(path)][0] == "waiting"
        path.write_bytes(b"".join(item + b"\n" for item in fleet_lines()[:3]))
        await until(pilot, lambda: app.logs.row_count == 3)
        await until(pilot, lambda: app.source_states[str(path)][0] != "waiting")


async def test_help_fits_80x24_without_scrolling(build: Build) -> None:
    """At 80×24 the help screen shows every key and its whole description, nothing to scroll."""
    app, _source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        box = app.screen.query_one("#help-box")
        await until(pilot, lambda: box.size.height > 0)
        await until(pilot, lambda: KEYS[-1].description in screen_text(app), what="the whole key table drawn")
        assert box.max_scroll_y == 0
        text = screen_text(app)
        for key in KEYS:
            assert key.label in text, key.label
            assert key.description in text, key.description
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
