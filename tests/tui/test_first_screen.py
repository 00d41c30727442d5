"""What ``agent-tui FILE`` loads before its first rows are on screen, and what it leaves for later."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent_tui.tui.tailfirst import TAIL_FIRST_MIN_BYTES, TAIL_LINES

from .conftest import T0, fleet_lines, line

DEFERRED = (
    "sqlite3",
    "aiofiles",
    "aiohttp",
    "multiprocessing",
    "agent_tui.model.parsing.history",
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
"""Modules the first screen of a local file does not need (dead letters, help, export, the history
loader's processes, remote sources, replay): each would delay the first rows, so none may be imported
before the first rows reach the logs view."""

# Runs the command's own code (``cli.tui.run``: argument handling, sources, ``make_app``) with the app
# driven headless by Pilot instead of a terminal. Reports the modules loaded at the moment the first
# rows are handed to the logs view, the collector's state before the app ran and once the first
# rows were drawn, whether the dead-letters view got mounted (waited for only with --dlq) and whether
# the history loader got loaded (waited for only when the file opened tail-first).
SCRIPT = r"""
import argparse, asyncio, gc, json, sys, time
from agent_tui.cli import tui as cli_tui
from agent_tui.tui.app import AgentTuiApp
from agent_tui.tui.widgets.log_view import LogView

report = {}
set_rows = LogView.set_rows

def first_rows(self, rows, count):
    if count and "modules" not in report:
        report["modules"] = sorted(sys.modules)
    set_rows(self, rows, count)

LogView.set_rows = first_rows

async def wait(pilot, ready, deadline):
    while not ready() and time.monotonic() < deadline:
        await pilot.pause(0.01)

def dead_letters_mounted(app):
    view = getattr(app, "dead_letters_view", None)
    return view is not None and view.is_mounted

async def headless(app):
    report["collecting_at_start"] = gc.isenabled()
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        await wait(pilot, lambda: app.logs.row_count, deadline)
        report["rows"] = app.logs.row_count
        await wait(pilot, gc.isenabled, deadline)
        report["collecting_after"] = gc.isenabled()
        report["frozen"] = gc.get_freeze_count()
        if "--dlq" in sys.argv:
            await wait(pilot, lambda: dead_letters_mounted(app), deadline)
        report["dead_letters_mounted"] = dead_letters_mounted(app)
        if app.merge is not None:
            await wait(pilot, lambda: "agent_tui.model.parsing.history" in sys.modules, deadline)
        report["history_loaded"] = "agent_tui.model.parsing.history" in sys.modules
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


def _loaded_too_early(report: dict[str, object]) -> list[str]:
    modules = report["modules"]
    assert isinstance(modules, list)
    assert {"agent_tui.tui.app", "textual.app", "agent_tui.model.session"} <= set(modules)
    return sorted(set(DEFERRED) & set(modules))


def test_first_rows_of_a_file_come_before_the_deferred_modules(tmp_path: Path) -> None:
    """Opening a local file hands its rows to the view with none of the deferred modules imported (the
    app and Textual are, so the list is real), and the command's start-up collector pause ends once
    they are drawn, with what start-up built frozen."""
    log = tmp_path / "agent.jsonl"
    log.write_bytes(b"\n".join(fleet_lines()) + b"\n")
    report = _first_screen(str(log))
    assert report["rows"] == len(fleet_lines())
    assert _loaded_too_early(report) == []
    assert report["collecting_at_start"] is False
    assert report["collecting_after"] is True
    assert isinstance(report["frozen"], int) and report["frozen"] > 0
    assert report["code"] == 0 and report["collecting_at_exit"] is True
    assert report["dead_letters_mounted"] is False and report["history_loaded"] is False


def test_a_big_file_shows_its_tail_before_the_history_loader_is_imported(tmp_path: Path) -> None:
    """A file opened tail-first shows its last lines with the history loader (and its process pools)
    not yet imported; the history load then starts (after those rows are drawn)."""
    log = tmp_path / "big.jsonl"
    body = b"\n".join(line(T0 + n / 100, "info", "tick", n=n, pad="x" * 200) for n in range(2000)) + b"\n"
    log.write_bytes(body * (TAIL_FIRST_MIN_BYTES // len(body) + 1))
    report = _first_screen(str(log))
    assert report["rows"] == TAIL_LINES
    assert _loaded_too_early(report) == []
    assert report["history_loaded"] is True


def test_a_dead_letter_database_still_gets_its_view_after_the_first_rows(tmp_path: Path) -> None:
    """With ``--dlq`` the dead-letters view is mounted (and starts watching) once the first rows are
    drawn, without a key press."""
    log = tmp_path / "agent.jsonl"
    log.write_bytes(b"\n".join(fleet_lines()) + b"\n")
    db = tmp_path / "dlq.db"
    db.write_bytes(b"")
    report = _first_screen("--dlq", str(db), str(log))
    assert report["rows"] == len(fleet_lines())
    assert _loaded_too_early(report) == []
    assert report["dead_letters_mounted"] is True
