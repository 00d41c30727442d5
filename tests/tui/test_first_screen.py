"""What ``agent-tui FILE`` loads before its first rows are on screen, and what it leaves for later."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import fleet_lines

DEFERRED = (
    "sqlite3",
    "aiofiles",
    "aiohttp",
    "agent_tui.model.deadletters.reader",
    "agent_tui.model.deadletters.watch",
    "agent_tui.tui.widgets.dead_letters",
    "agent_tui.tui.screens.help",
    "agent_tui.model.query.logql",
    "agent_tui.sources.http",
    "agent_tui.sources.loki",
    "agent_tui.sources.ssh",
    "agent_tui.tui.replay",
    "agent_tui.tui.demo",
)
"""Modules the first screen of a local file does not need (dead letters, help, export, remote sources,
replay): each would delay the first rows, so none may be imported before they are drawn."""

# Runs the command's own code (``cli.tui.run``: argument handling, sources, ``make_app``) with the app
# driven headless by Pilot instead of a terminal; reports what was loaded once rows are on screen and
# the collector's state before the app ran and once the first rows were drawn, and whether the
# dead-letters view was mounted (waited for only with --dlq).
SCRIPT = r"""
import argparse, asyncio, gc, json, sys, time
from agent_tui.cli import tui as cli_tui
from agent_tui.tui.app import AgentTuiApp

report = {}

async def headless(app):
    report["collecting_at_start"] = gc.isenabled()
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while not app.logs.row_count and time.monotonic() < deadline:
            await pilot.pause(0.01)
        report["rows"] = app.logs.row_count
        report["modules"] = sorted(sys.modules)
        while not gc.isenabled() and time.monotonic() < deadline:
            await pilot.pause(0.01)
        report["collecting_after"] = gc.isenabled()
        report["frozen"] = gc.get_freeze_count()
        watched = "--dlq" in sys.argv
        while watched and not getattr(app, "dead_letters_view", None) and time.monotonic() < deadline:
            await pilot.pause(0.01)
        view = getattr(app, "dead_letters_view", None)
        report["dead_letters_mounted"] = view is not None and view.is_mounted
        app.exit(0)
    return 0

AgentTuiApp.run = lambda self, *a, **k: asyncio.run(headless(self))
parser = argparse.ArgumentParser()
cli_tui.add_arguments(parser)
code = cli_tui.run(parser.parse_args(sys.argv[1:]))
report["code"] = code
report["collecting_at_exit"] = gc.isenabled()
print(json.dumps(report))
"""


def _first_screen(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    report: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return report


def test_first_rows_of_a_file_come_before_the_deferred_modules(tmp_path: Path) -> None:
    """Opening a local file draws its rows with none of the deferred modules imported (the app and
    Textual are, so the list is real), and the command's start-up collector pause ends once they are
    drawn, with what start-up built frozen."""
    log = tmp_path / "agent.jsonl"
    log.write_bytes(b"\n".join(fleet_lines()) + b"\n")
    report = _first_screen(str(log))
    modules = report["modules"]
    assert isinstance(modules, list)
    assert report["rows"] == len(fleet_lines())
    assert {"agent_tui.tui.app", "textual.app", "agent_tui.model.session"} <= set(modules)
    assert sorted(set(DEFERRED) & set(modules)) == []
    assert report["collecting_at_start"] is False
    assert report["collecting_after"] is True
    assert isinstance(report["frozen"], int) and report["frozen"] > 0
    assert report["code"] == 0 and report["collecting_at_exit"] is True
    assert report["dead_letters_mounted"] is False


def test_a_dead_letter_database_still_gets_its_view_after_the_first_rows(tmp_path: Path) -> None:
    """With ``--dlq`` the dead-letters view is mounted (and starts watching) once the first rows are
    drawn, without a key press."""
    log = tmp_path / "agent.jsonl"
    log.write_bytes(b"\n".join(fleet_lines()) + b"\n")
    db = tmp_path / "dlq.db"
    db.write_bytes(b"")
    report = _first_screen("--dlq", str(db), str(log))
    assert report["rows"] == len(fleet_lines())
    assert report["dead_letters_mounted"] is True
