"""Pilot tests of the logs view: following, moving, pausing, levels, errors, matches, export, copy, quit."""

from __future__ import annotations

import orjson

from agent_tui.schema import Level
from agent_tui.tui.widgets.log_view import LogView

from .conftest import T0, Build, fleet_lines, line, screen_text, until

N = len(fleet_lines())


async def test_follow_shows_newest_records_and_counts(build: Build) -> None:
    """Following, the last record is selected and visible, and the stats bar counts every level."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await until(pilot, lambda: app.logs.cursor == N - 1)
        text = screen_text(app)
        assert "FOLLOW" in text
        assert "heartbeat seq_no=99" in app.logs.render_line(app.logs.size.height - 1).text
        assert "all 1/3/1/" in text  # 1 critical, 3 errors, 1 warning in total


async def test_cursor_keys_move_and_leave_follow(build: Build) -> None:
    """k/up moves up and ends follow; g/G go to the ends (G follows again); j/down and PgUp/PgDn move."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.cursor == N - 1)
        await pilot.press("k")
        assert app.logs.cursor == N - 2
        assert app.follow_mode is False
        await pilot.press("up", "g")
        assert app.logs.cursor == 0
        await pilot.press("j", "down")
        assert app.logs.cursor == 2
        await pilot.press("pagedown")
        page = app.logs.size.height - 1
        assert app.logs.cursor == 2 + page
        await pilot.press("pageup")
        assert app.logs.cursor == 2
        await pilot.press("G")
        assert app.logs.cursor == N - 1
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
        assert app.paused
        source.push([line(T0 + 41, "info", f"more.{i}") for i in range(5)])
        await until(pilot, lambda: len(app.model.store) == N + 5)
        await until(pilot, lambda: "PAUSED" in screen_text(app))
        assert app.logs.row_count == N
        assert app.stats_snapshot().total == N + 5
        await pilot.press("space")
        await until(pilot, lambda: app.logs.row_count == N + 5)
        assert app.logs.cursor == N + 4


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
        assert "wallet.key_revoked" in screen_text(app)
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
        newest = app.logs.selected_seq
        assert newest is not None
        assert app.model.store.record(newest).event == "wallet.key_revoked"
        await pilot.press("E")
        seq = app.logs.selected_seq
        assert seq is not None
        assert app.model.store.record(seq).event == "trace.failed"
        await pilot.press("E", "E")
        seq = app.logs.selected_seq
        assert seq is not None
        assert app.model.store.record(seq).event == "http.timeout"
        await pilot.press("e")
        seq = app.logs.selected_seq
        assert seq is not None
        assert app.model.store.record(seq).event == "trace.failed"


async def test_n_and_shift_n_walk_matches_of_the_last_expression(build: Build) -> None:
    """After a filter is cleared with esc, n/N jump between records matching it, which are marked."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("slash", *"event == 'trace.failed'", "enter")
        await until(pilot, lambda: app.logs.row_count == 2)
        await pilot.press("escape")
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("g", "n")
        first = app.logs.selected_seq
        assert first is not None
        assert app.model.store.record(first).event == "trace.failed"
        await pilot.press("n")
        second = app.logs.selected_seq
        assert second is not None and second > first
        assert app.model.store.record(second).event == "trace.failed"
        await pilot.press("N")
        assert app.logs.selected_seq == first
        assert "»" in screen_text(app)


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
        assert app.clipboard == "t_ok000000"


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
        await pilot.click(LogView, offset=(5, 3))
        assert app.logs.cursor == 3
