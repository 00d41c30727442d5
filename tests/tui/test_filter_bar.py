"""Pilot tests of the filter bar: apply, live validation with a caret, previous filter kept, history, esc."""

from __future__ import annotations

from agent_tui.tui.widgets.filter_bar import FilterBar

from .conftest import Build, fleet_lines, screen_text, until

N = len(fleet_lines())


async def test_valid_filter_applies_and_shows_in_stats_bar(build: Build) -> None:
    """A valid expression narrows the view on enter and the stats bar names it."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("slash")
        assert app.query_one(FilterBar).display
        await pilot.press(*"level >= warning", "enter")
        await until(pilot, lambda: app.logs.row_count == 5)
        assert not app.query_one(FilterBar).display
        await until(pilot, lambda: "filter: level >= warning" in screen_text(app))


async def test_invalid_filter_shows_caret_and_keeps_previous_filter(build: Build) -> None:
    """A syntax error draws a caret under its column and enter leaves the active filter in place."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("slash", *"level >= error", "enter")
        await until(pilot, lambda: app.logs.row_count == 4)
        await pilot.press("slash", "ctrl+u", *"level >= (", "enter")
        bar = app.query_one(FilterBar)
        assert bar.error is not None
        assert bar.display
        assert "^" in screen_text(app)
        assert app.filter_text == "level >= error"
        assert app.logs.row_count == 4
        await pilot.press("escape")
        assert not bar.display
        assert app.logs.row_count == 4


async def test_history_recalls_earlier_filters(build: Build) -> None:
    """up/down in the bar walk through previously applied expressions."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("slash", *"level >= error", "enter")
        await pilot.press("slash", "ctrl+u", *"heartbeat", "enter")
        await until(pilot, lambda: app.logs.row_count == 11)
        await pilot.press("slash", "ctrl+u", "up")
        bar = app.query_one(FilterBar)
        assert bar.input.value == "heartbeat"
        await pilot.press("up")
        assert bar.input.value == "level >= error"
        await pilot.press("down")
        assert bar.input.value == "heartbeat"
        await pilot.press("enter")
        assert app.filter_text == "heartbeat"


async def test_escape_in_logs_clears_the_filter(build: Build) -> None:
    """esc in the logs view drops the active filter and shows every record again."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("slash", *"heartbeat", "enter")
        await until(pilot, lambda: app.logs.row_count == 11)
        await pilot.press("escape")
        await until(pilot, lambda: app.logs.row_count == N)
        assert app.filter_text == ""


async def test_initial_filter_option_applies_at_start(build: Build) -> None:
    """--filter passed to make_app is active from the first screen."""
    app, source = build(filter_text="event == 'trace.failed'")
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == 2)
        assert app.filter_text == "event == 'trace.failed'"
