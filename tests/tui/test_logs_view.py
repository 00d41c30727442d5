"""Pilot tests of the logs view: following, moving, pausing, levels, errors, matches, export, copy, quit."""

from __future__ import annotations

import orjson

from agent_tui.schema import Level
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.widgets.log_view import LogView

from .conftest import T0, Build, apply_filter, fleet_lines, line, screen_text, selected_event, until

N = len(fleet_lines())


def _bottom_row(app: AgentTuiApp) -> str:
    return app.logs.render_line(app.logs.size.height - 1).text


async def test_follow_shows_newest_records_and_counts(build: Build) -> None:
    """Following, the last record is selected and visible, and the stats bar counts every level."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await until(pilot, lambda: app.logs.cursor == N - 1)
        await until(pilot, lambda: "heartbeat seq_no=99" in _bottom_row(app), what="newest row at the bottom")
        # The stats bar refreshes on its own at 4 Hz: wait for the refresh that counted everything.
        await until(pilot, lambda: "all 1/3/1/" in screen_text(app), what="1 critical, 3 errors, 1 warning")
        assert "FOLLOW" in screen_text(app)


async def test_cursor_keys_move_and_leave_follow(build: Build) -> None:
    """k/up moves up and ends follow; g/G go to the ends (G follows again); j/down and PgUp/PgDn move."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.cursor == N - 1)
        await pilot.press("k")
        await until(pilot, lambda: app.logs.cursor == N - 2)
        assert app.follow_mode is False
        await pilot.press("up", "g")
        await until(pilot, lambda: app.logs.cursor == 0)
        await pilot.press("j", "down")
        await until(pilot, lambda: app.logs.cursor == 2)
        await pilot.press("pagedown")
        page = app.logs.size.height - 1
        await until(pilot, lambda: app.logs.cursor == 2 + page)
        await pilot.press("pageup")
        await until(pilot, lambda: app.logs.cursor == 2)
        await pilot.press("G")
        await until(pilot, lambda: app.logs.cursor == N - 1)
        assert app.follow_mode is True
        source.push([line(T0 + 40, "info", "late.arrival")])
        await until(pilot, lambda: app.logs.cursor == N)


async def test_pause_freezes_rows_while_counts_continue(build: Build) -> None:
    """space freezes the rows on screen while ingestion and counts go on; space again catches up."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("space")
        await until(pilot, lambda: app.paused)
        source.push([line(T0 + 41, "info", f"more.{i}") for i in range(5)])
        await until(pilot, lambda: len(app.model.store) == N + 5)
        await until(pilot, lambda: "PAUSED" in screen_text(app))
        assert app.logs.row_count == N
        assert app.stats_snapshot().total == N + 5
        await pilot.press("space")
        await until(pilot, lambda: app.logs.row_count == N + 5)
        await until(pilot, lambda: app.logs.cursor == N + 4)


async def test_number_keys_set_the_minimum_level(build: Build) -> None:
    """4 keeps errors and criticals, 5 criticals only, 1 shows everything again."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("4")
        await until(pilot, lambda: app.logs.row_count == 4)
        assert all(app.model.store.record(app.view[i]).level >= Level.ERROR for i in range(4))
        await pilot.press("5")
        await until(pilot, lambda: app.logs.row_count == 1)
        await until(pilot, lambda: "wallet.key_revoked" in screen_text(app))
        await pilot.press("3")
        await until(pilot, lambda: app.logs.row_count == 5)
        await pilot.press("2")
        await until(pilot, lambda: app.logs.row_count == N - 8)
        await pilot.press("1")
        await until(pilot, lambda: app.logs.row_count == N)


async def test_e_and_shift_e_walk_errors(build: Build) -> None:
    """e from the end selects the newest error; E walks to older ones; e moves forward again."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("G", "e")
        await until(pilot, lambda: selected_event(app) == "wallet.key_revoked")
        await pilot.press("E")
        await until(pilot, lambda: selected_event(app) == "trace.failed")
        await pilot.press("E", "E")
        await until(pilot, lambda: selected_event(app) == "http.timeout")
        await pilot.press("e")
        await until(pilot, lambda: selected_event(app) == "trace.failed")


async def test_n_and_shift_n_walk_matches_of_the_last_expression(build: Build) -> None:
    """After a filter is cleared with esc, n/N jump between records matching it, which are marked."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await apply_filter(pilot, app, "event == 'trace.failed'")
        await until(pilot, lambda: app.logs.row_count == 2)
        await pilot.press("escape")
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("g", "n")
        await until(pilot, lambda: selected_event(app) == "trace.failed")
        first = app.logs.selected_seq
        assert first is not None
        await pilot.press("n")
        await until(pilot, lambda: (app.logs.selected_seq or 0) > first)
        assert selected_event(app) == "trace.failed"
        await pilot.press("N")
        await until(pilot, lambda: app.logs.selected_seq == first)
        await until(pilot, lambda: "»" in screen_text(app))


async def test_export_writes_the_current_view_as_jsonl(build: Build) -> None:
    """x writes exactly the filtered rows' original lines and names the file in a toast."""
    app, source = build()
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("4", "x")
        # The toast comes once the file is written and closed (the writes run in aiofiles' thread).
        await until(pilot, lambda: "exported 4 records" in screen_text(app))
        path = next(app.export_dir.glob("agent-tui-export-*.jsonl"))
        rows = [orjson.loads(raw) for raw in path.read_bytes().splitlines()]
        assert [r["event"] for r in rows] == [
            "http.timeout",
            "trace.failed",
            "trace.failed",
            "wallet.key_revoked",
        ]


async def test_y_copies_the_trace_id(build: Build) -> None:
    """y puts the selected record's trace id on the clipboard (OSC 52)."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("g", "y")
        await until(pilot, lambda: app.clipboard == "t_ok000000")


async def test_q_quits(build: Build) -> None:
    """q exits the app."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await pilot.press("q")
        await until(pilot, lambda: app.return_code == 0)


async def test_mouse_click_selects_a_row(build: Build) -> None:
    """Mouse works but is optional: clicking a row selects it."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("g")
        await until(pilot, lambda: app.logs.cursor == 0)
        await pilot.click(LogView, offset=(5, 3))
        await until(pilot, lambda: app.logs.cursor == 3)
