"""Pilot tests of the filter bar: apply, live validation with a caret, previous filter kept, history, esc."""

from __future__ import annotations

from .conftest import Build, apply_filter, fleet_lines, open_filter, screen_text, until

N = len(fleet_lines())


async def test_valid_filter_applies_and_shows_in_stats_bar(build: Build) -> None:
    """A valid expression narrows the view on enter and the stats bar names it."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        bar = await open_filter(pilot, app)
        assert bar.display
        await pilot.press(*"level >= warning")
        await until(pilot, lambda: bar.input.value == "level >= warning")
        await pilot.press("enter")
        await until(pilot, lambda: app.logs.row_count == 5)
        await until(pilot, lambda: not bar.display)
        await until(pilot, lambda: "filter: level >= warning" in screen_text(app))


async def test_invalid_filter_shows_caret_and_keeps_previous_filter(build: Build) -> None:
    """A syntax error draws a caret under its column and enter leaves the active filter in place."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await apply_filter(pilot, app, "level >= error")
        await until(pilot, lambda: app.logs.row_count == 4)
        bar = await apply_filter(pilot, app, "level >= (")
        await until(pilot, lambda: bar.error is not None and "^" in screen_text(app))
        assert bar.display
        assert app.filter_text == "level >= error"
        assert app.logs.row_count == 4
        await pilot.press("escape")
        await until(pilot, lambda: not bar.display)
        assert app.logs.row_count == 4


async def test_history_recalls_earlier_filters(build: Build) -> None:
    """up/down in the bar walk through previously applied expressions."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await apply_filter(pilot, app, "level >= error")
        await until(pilot, lambda: app.logs.row_count == 4)
        await apply_filter(pilot, app, "heartbeat")
        await until(pilot, lambda: app.logs.row_count == 11)
        bar = await open_filter(pilot, app)
        await pilot.press("ctrl+u")
        await until(pilot, lambda: bar.input.value == "")
        await pilot.press("up")
        await until(pilot, lambda: bar.input.value == "heartbeat")
        await pilot.press("up")
        await until(pilot, lambda: bar.input.value == "level >= error")
        await pilot.press("down")
        await until(pilot, lambda: bar.input.value == "heartbeat")
        await pilot.press("enter")
        await until(pilot, lambda: not bar.display)
        assert app.filter_text == "heartbeat"


async def test_escape_in_logs_clears_the_filter(build: Build) -> None:
    """esc in the logs view drops the active filter and shows every record again."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await apply_filter(pilot, app, "heartbeat")
        await until(pilot, lambda: app.logs.row_count == 11)
        await pilot.press("escape")
        await until(pilot, lambda: app.logs.row_count == N)
        await until(pilot, lambda: app.filter_text == "")


async def test_initial_filter_option_applies_at_start(build: Build) -> None:
    """--filter passed to make_app is active from the first screen."""
    app, source = build(filter_text="event == 'trace.failed'")
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == 2)
        assert app.filter_text == "event == 'trace.failed'"
