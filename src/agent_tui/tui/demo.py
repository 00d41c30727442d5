"""``agent-tui demo``: a simulated agent fleet writing into a temp dir, and the TUI following it."""

from __future__ import annotations

import argparse
import importlib
import tempfile
import threading
from functools import partial
from pathlib import Path
from typing import Any

from agent_tui.shutdown import HANGUP, ExitGuard, remove_tree
from agent_tui.sources.factory import open_source
from agent_tui.sources.options import SourceOptions
from agent_tui.tui.factory import make_app

__all__ = ["run_demo", "start_fleet"]

FLEET_STOP_S = 1.0
"""How long to wait for the fleet thread to notice the stop (it finishes its current step)."""


def start_fleet(directory: Path, args: argparse.Namespace, stop: threading.Event) -> threading.Thread:
    """Run ``agent_tui.demo.run_fleet`` in a daemon thread writing into ``directory``."""
    run_fleet = importlib.import_module("agent_tui.demo").run_fleet
    options: dict[str, Any] = {"stop": stop}
    for name in ("agents", "rate", "seconds", "seed"):
        value = getattr(args, name, None)
        if value is not None:
            options[name] = value
    thread = threading.Thread(
        target=run_fleet, args=(directory,), kwargs=options, name="agent-tui-demo-fleet", daemon=True
    )
    thread.start()
    return thread


def run_demo(args: argparse.Namespace) -> int:
    """Start the fleet in a temp dir and open the TUI following it; returns the exit code.

    However it ends (q, SIGHUP, SIGTERM, the watchdog) the fleet is stopped and the temp dir removed.
    """
    guard = ExitGuard(at_once=HANGUP)
    guard.install()
    stop = threading.Event()
    directory = Path(tempfile.mkdtemp(prefix="agent-tui-demo-"))
    fleet: list[threading.Thread] = []

    def stop_fleet() -> None:
        # A fleet step still running may rotate a file, which re-creates the directory: wait for it first.
        stop.set()
        for running in fleet:
            running.join(timeout=FLEET_STOP_S)

    guard.add_cleanup(stop_fleet)
    guard.add_cleanup(partial(remove_tree, directory))
    try:
        fleet.append(start_fleet(directory, args, stop))
        try:
            source = open_source(str(directory), SourceOptions(follow=True))
            app = make_app(
                [source],
                follow=True,
                theme=getattr(args, "theme", None),
                export_dir=Path.cwd(),
                dead_letters=[str(directory / "dlq.db")],
                exit_guard=guard,
            )
            result = app.run()
        finally:
            stop_fleet()
    finally:
        remove_tree(directory)
    guard.exit_if_stopped(0)
    return int(result or 0)
