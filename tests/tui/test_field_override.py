"""The TUI with ``--field`` overrides (``make_app(overrides=...)``): rows, counts and levels follow them."""

from __future__ import annotations

from pathlib import Path

from agent_tui.model.clock import FrozenClock
from agent_tui.tui.factory import make_app
from tests.integration.cli.helpers import custom_log

from .conftest import T0, QueueSource, screen_text, until


async def test_overridden_level_and_message_drive_rows_counts_and_level_keys(tmp_path: Path) -> None:
    """sev is the level and text the message: the bar counts 4 errors, rows say step.N, 4 keeps 4 rows."""
    lines = custom_log(tmp_path / "custom.jsonl").read_bytes().splitlines()
    source = QueueSource()
    app = make_app(
        [source],
        clock=FrozenClock(T0 + 30),
        export_dir=tmp_path,
        environ={},
        overrides={"level": "sev", "event": "text"},
    )
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        source.push(lines)
        await until(pilot, lambda: app.logs.row_count == 20)
        await until(pilot, lambda: "all 0/4/0/16" in screen_text(app))
        await until(pilot, lambda: "step.19" in screen_text(app))
        assert "decoy" not in screen_text(app)
        await pilot.press("4")
        await until(pilot, lambda: app.logs.row_count == 4)
        assert [app.model.store.record(seq).event for seq in app.view] == [
            "step.0",
            "step.5",
            "step.10",
            "step.15",
        ]
