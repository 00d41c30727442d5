"""Pilot tests of the traces view, enter-to-trace, the detail pane, copying, help and the palette."""

from __future__ import annotations

import functools

from textual.command import CommandPalette

from agent_tui.tui.widgets.trace_view import NodeRef, TraceView

from .conftest import FAIL_TRACE, T0, Build, fleet_lines, line, screen_text, until

N = len(fleet_lines())


async def test_t_shows_traces_with_status_and_l_returns(build: Build) -> None:
    """t lists traces with status, op, duration and error count; l goes back to the logs."""
    app, source = build()
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("t")
        await until(pilot, lambda: app.current_view == "traces")
        await until(pilot, lambda: "casino.place_bet" in screen_text(app) and "bet.run" in screen_text(app))
        text = screen_text(app)
        assert "ERR" in text and "errors" in text
        assert "OK" in text
        await pilot.press("l")
        await until(pilot, lambda: app.current_view == "logs" and app.focused is app.logs)


async def test_e_then_enter_shows_the_failing_span_traceback(build: Build) -> None:
    """From the start, e then enter opens the failing trace expanded with the traceback in the detail pane."""
    app, source = build()
    async with app.run_test(notifications=True, size=(120, 40)) as pilot:
        source.push(fleet_lines()[:-2])
        await until(pilot, lambda: app.logs.row_count == N - 2)
        await pilot.press("e", "enter")
        await until(pilot, lambda: app.current_view == "traces" and bool(app.detail.display))
        await until(pilot, lambda: 'File "casino/client.py", line 88, in place_bet' in screen_text(app))
        await until(pilot, lambda: "http.post" in screen_text(app))
        assert "TimeoutError: casino API did not answer within 5.0 s" in screen_text(app)
        node = app.traces_view.cursor_node
        assert node is not None and node.data is not None
        assert node.data.trace_id == FAIL_TRACE


async def test_enter_on_a_record_without_trace_says_so(build: Build) -> None:
    """enter on a record with no trace id stays in the logs view and explains."""
    app, source = build()
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.cursor == N - 1)
        await pilot.press("enter")
        await until(pilot, lambda: "no trace id" in screen_text(app))
        assert app.current_view == "logs"


async def test_live_trace_updates_keep_expansion_and_selection(build: Build) -> None:
    """New records in an open trace update it in place; the expanded nodes and selected node stay."""
    app, source = build()
    async with app.run_test(notifications=True, size=(120, 40)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("t")
        await until(pilot, lambda: app.current_view == "traces")
        tree = app.traces_view
        assert tree.select_ref(NodeRef("span", FAIL_TRACE, "b" * 16))
        await until(pilot, lambda: _cursor_ref(tree) == NodeRef("span", FAIL_TRACE, "b" * 16))
        source.push([line(T0 + 20, "info", "retry.scheduled", trace_id=FAIL_TRACE, span_id="b" * 16)])
        await until(pilot, lambda: "retry.scheduled" in screen_text(app))
        node = tree.cursor_node
        assert node is not None and node.data == NodeRef("span", FAIL_TRACE, "b" * 16)
        assert tree.nodes[FAIL_TRACE].is_expanded
        source.push([line(T0 + 21, "info", "trace.start", trace_id="t_new0001", op="new.op")])
        await until(pilot, lambda: "new.op" in screen_text(app))
        assert tree.cursor_node is not None and tree.cursor_node.data == NodeRef("span", FAIL_TRACE, "b" * 16)


async def test_d_shows_pretty_json_and_tab_c_p_copy(build: Build) -> None:
    """d opens the record as foldable JSON; tab focuses it; c copies a value and p its path."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(120, 40)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await pilot.press("g", "d")
        await until(pilot, lambda: 'trace_id: "t_ok000000"' in screen_text(app))
        assert app.detail.display
        assert 'agent_id: "agent-0"' in screen_text(app)
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is app.detail)
        await pilot.press("down", "down", "c")
        await until(pilot, lambda: app.clipboard == "info")
        await pilot.press("p")
        await until(pilot, lambda: app.clipboard == ".level")
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is app.logs)
        await pilot.press("d")
        await until(pilot, lambda: not app.detail.display)


async def test_help_lists_every_key(build: Build) -> None:
    """? opens the key table (every action with its key); esc closes it."""
    app, _source = build()
    async with app.run_test(notifications=True, size=(100, 50)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: "agent-tui keys" in screen_text(app))
        text = screen_text(app)
        for word in ("follow", "pause", "filter", "next error", "copy trace id", "export", "quit"):
            assert word in text
        await pilot.press("escape")
        await until(pilot, lambda: "agent-tui keys" not in screen_text(app))


async def test_command_palette_lists_actions(build: Build) -> None:
    """ctrl+p opens the palette, which finds our actions by name."""
    app, _source = build()
    async with app.run_test(notifications=True, size=(100, 40)) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"export")
        await until(pilot, lambda: "export the view" in screen_text(app))


async def test_new_traces_arriving_above_keep_the_selected_trace_on_screen(build: Build) -> None:
    """After e, enter, newer traces arriving above (in several batches) leave the failing span on its row."""
    app, source = build()
    async with app.run_test(notifications=True, size=(100, 18)) as pilot:
        source.push(fleet_lines()[:-2])
        await until(pilot, lambda: app.logs.row_count == N - 2)
        await pilot.press("e", "enter")
        await until(pilot, lambda: app.current_view == "traces" and bool(app.detail.display))
        tree = app.traces_view
        await until(pilot, lambda: _cursor_ref(tree) is not None and _on_screen(tree))
        before = tree.cursor_node
        assert before is not None and before.data is not None
        row = before.line - round(tree.scroll_y)
        assert 0 <= row < tree.size.height
        t = T0 + 60
        for batch in range(3):
            source.push(
                [
                    line(
                        t + i,
                        "info",
                        "trace.start",
                        agent_id="a9",
                        trace_id=f"t_new{batch}{i:03d}",
                        op="late",
                    )
                    for i in range(10)
                ]
            )
            await until(pilot, functools.partial(_has_traces, tree, 9 + 10 * (batch + 1)))
            await until(pilot, lambda: _cursor_ref(tree) == before.data and _row(tree) == row)
        assert "TimeoutError" in screen_text(app)


def _cursor_ref(tree: TraceView) -> NodeRef | None:
    node = tree.cursor_node
    return None if node is None else node.data


def _row(tree: TraceView) -> int | None:
    """The screen row of the cursor's node inside the tree."""
    node = tree.cursor_node
    return None if node is None else node.line - round(tree.scroll_y)


def _on_screen(tree: TraceView) -> bool:
    """The cursor's row is inside the visible part of the tree (scrolling has settled on it)."""
    row = _row(tree)
    return row is not None and 0 <= row < tree.size.height


def _has_traces(tree: TraceView, count: int) -> bool:
    return len(tree.root.children) >= count


async def test_tab_opens_the_hidden_detail_pane_and_comes_back(build: Build) -> None:
    """tab with the detail pane hidden opens and focuses it (logs and traces); tab again returns."""
    app, source = build(follow=False)
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        assert not app.detail.display
        await pilot.press("tab")
        await until(pilot, lambda: app.detail.display and app.focused is app.detail)
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is app.logs)
        await pilot.press("d", "t")
        await until(pilot, lambda: not app.detail.display and app.current_view == "traces")
        await pilot.press("tab")
        await until(pilot, lambda: app.detail.display and app.focused is app.detail)
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is app.traces_view)


async def test_footer_at_80_columns_still_shows_the_help_key(build: Build) -> None:
    """At 80×24 the footer cannot hold every key, but '? help' (which lists them all) is on it."""
    app, source = build()
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.logs.row_count == N)
        await until(pilot, lambda: screen_text(app).splitlines()[-1].lstrip().startswith("? help"))
        footer = screen_text(app).splitlines()[-1]
        assert "e error" in footer and "⏎ trace" in footer
