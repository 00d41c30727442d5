"""Pilot tests of the dead-letters view: live entries, the stats bar count, enter → the failing span."""

from __future__ import annotations

from pathlib import Path

from agent_tui.log import trace
from agent_tui.log.dlq import DeadLetterQueue
from agent_tui.tui.deadletteractions import DEAD_LETTERS
from agent_tui.tui.keys import KEYS
from tests.dlqtools import LockHolder, spawn

from .conftest import FAIL_TRACE, TRACEBACK, Build, fleet_lines, screen_text, until


def _queue_with_failure(db: Path) -> int:
    with (
        DeadLetterQueue(db, agent_id="agent-2", service="casino-agent") as q,
        trace("bet", trace_id=FAIL_TRACE),
    ):
        return q.put("bet", TimeoutError("casino API did not answer"), attempts=5, error_code="TIMEOUT")


async def test_enter_on_a_dead_letter_opens_its_trace_at_the_traceback(build: Build, tmp_path: Path) -> None:
    """D shows the entry and the stats bar counts it; enter opens the entry's trace in the traces view
    with the failing span's traceback in the detail pane, as e then enter would."""
    db = tmp_path / "dlq.db"
    _queue_with_failure(db)
    app, source = build(dead_letters=[str(db)])
    async with app.run_test(notifications=True, size=(140, 40)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: app.model.traces.get(FAIL_TRACE) is not None)
        await until(pilot, lambda: "DLQ 1 open (dlq.db)" in screen_text(app))
        await pilot.press("D")
        await until(pilot, lambda: app.current_view == DEAD_LETTERS)
        await until(pilot, lambda: FAIL_TRACE in screen_text(app))
        assert "TIMEOUT" in screen_text(app) and "agent-2" in screen_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: app.current_view == "traces" and app.detail.display)
        await until(pilot, lambda: TRACEBACK[1].strip() in screen_text(app))
        assert 'op: "http.post"' in screen_text(app)
        node = app.traces_view.cursor_node
        assert node is not None and node.data is not None and node.data.span_id == "b" * 16


async def test_entries_added_and_resolved_by_other_processes_show_live(build: Build, tmp_path: Path) -> None:
    """Entries another process writes appear without a key press; resolving one updates the count and
    its marker; the UI stays responsive while the poll runs off the UI thread."""
    db = tmp_path / "dlq.db"
    first = _queue_with_failure(db)
    app, source = build(dead_letters=[str(db)])
    async with app.run_test(notifications=True, size=(140, 40)) as pilot:
        source.push(fleet_lines())
        await pilot.press("D")
        await until(pilot, lambda: len(app.dead_letters_view.entries) == 1)
        writer = spawn("write", str(db), "2", "live")
        _out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        await until(pilot, lambda: len(app.dead_letters_view.entries) == 3)
        await until(pilot, lambda: "DLQ 3 open" in screen_text(app))
        await until(pilot, lambda: "job live-1 timed out" in screen_text(app))
        with DeadLetterQueue(db) as q:
            assert q.resolve(first)
        await until(pilot, lambda: "DLQ 2 open" in screen_text(app))
        assert [e.resolved for e in app.dead_letters_view.entries] == [False, False, True]
        await pilot.press("j")
        await until(pilot, lambda: app.dead_letters_view.table.cursor_row == 1)


async def test_bad_databases_and_missing_traces_are_marked_not_fatal(build: Build, tmp_path: Path) -> None:
    """A missing file and a non-SQLite file are named in the view's status line and flagged in the stats
    bar; enter on an entry whose trace is not in the logs says so and shows the entry in detail."""
    good = tmp_path / "dlq.db"
    with DeadLetterQueue(good) as q, trace("lost", trace_id="t_not_in_logs"):
        q.put("escrow", "escrow expired", payload={"escrow_id": "esc_4b8c1a3e"})
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all\n" * 20)
    app, source = build(dead_letters=[str(good), str(junk), str(tmp_path / "gone.db")])
    async with app.run_test(notifications=True, size=(160, 40)) as pilot:
        source.push(fleet_lines())
        await pilot.press("D")
        await until(pilot, lambda: "junk.db: not a SQLite database" in screen_text(app))
        assert "gone.db: no such file" in screen_text(app)
        await until(pilot, lambda: "⚠ unreadable" in screen_text(app), what="the stats bar's warning")
        await until(pilot, lambda: len(app.dead_letters_view.entries) == 1)
        await pilot.press("enter")
        await until(pilot, lambda: app.detail.display)
        await until(pilot, lambda: "trace t_not_in_logs is not in the logs" in screen_text(app))
        await until(pilot, lambda: "esc_4b8c1a3e" in screen_text(app))
        assert app.current_view == DEAD_LETTERS


async def test_the_key_is_in_help_and_the_view_says_how_to_get_a_database(build: Build) -> None:
    """D is in the key table (help and palette come from it); without a database the view says how to
    give one and the stats bar says nothing about dead letters."""
    assert any(k.keys == "D" and k.action == "show_dead_letters" for k in KEYS)
    app, _source = build()
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        await pilot.press("D")
        await until(pilot, lambda: "start with --dlq DB" in screen_text(app))
        assert "DLQ" not in screen_text(app)
        await pilot.press("question_mark")
        await until(pilot, lambda: "dead letters view" in screen_text(app))


async def test_stats_bar_keeps_the_dead_letter_count_at_80_columns(build: Build, tmp_path: Path) -> None:
    """At 80 columns the counts line still ends with every window's totals and the unresolved count."""
    db = tmp_path / "dlq.db"
    for _ in range(3):
        _queue_with_failure(db)
    app, source = build(dead_letters=[str(db)])
    async with app.run_test(notifications=True, size=(80, 24)) as pilot:
        source.push(fleet_lines())
        await until(pilot, lambda: "DLQ 3 open" in screen_text(app))
        app.refresh_stats()
        await until(pilot, lambda: "all 1/3/1/30  DLQ 3 open" in screen_text(app).splitlines()[1])
        assert "…" not in screen_text(app).splitlines()[1]


async def test_a_locked_database_is_marked_and_the_writer_is_never_blocked(
    build: Build, tmp_path: Path
) -> None:
    """A rollback-journal database under a writer's EXCLUSIVE lock is shown as locked; the writer then
    commits (the view holds no lock between polls) and its entry appears without a key press."""
    db = tmp_path / "seed.db"
    holder = LockHolder(db, "EXCLUSIVE", seed_table=True)
    try:
        app, source = build(dead_letters=[str(db)])
        async with app.run_test(notifications=True, size=(160, 40)) as pilot:
            source.push(fleet_lines())
            await pilot.press("D")
            await until(pilot, lambda: "seed.db: locked by a writer" in screen_text(app))
            await until(pilot, lambda: "⚠ unreadable" in screen_text(app), what="the stats bar's warning")
            assert holder.release() == "committed"
            await until(pilot, lambda: "written while a reader looked" in screen_text(app))
            await until(pilot, lambda: "DLQ 1 open (seed.db)" in screen_text(app))
    finally:
        holder.kill()
