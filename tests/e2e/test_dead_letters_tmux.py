"""The installed agent-tui in tmux: a fleet's dead letters, D, enter → the failing span's traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import Tmux

pytestmark = pytest.mark.e2e


def _fleet(logs: Path, agent_tui: str) -> None:
    """Run the demo fleet as its own process: JSONL logs plus dlq.db written through agent_tui.log.dlq."""
    done = subprocess.run(
        [agent_tui, "demo", "--write", str(logs), "--seconds", "3", "--rate", "200", "--agents", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (logs / "dlq.db").exists()


@pytest.mark.parametrize("given", [True, False], ids=["--dlq", "found-beside-logs"])
def test_dead_letters_view_enter_shows_the_traceback(
    tmp_path: Path, tmux: Tmux, agent_tui: str, given: bool
) -> None:
    """`agent-tui --follow DIR --dlq DB` (or DIR holding the db): the stats bar counts the entries and
    names the db, D lists them, enter opens the entry's trace with the traceback on screen."""
    logs = tmp_path / "logs"
    _fleet(logs, agent_tui)
    option = f" --dlq {logs / 'dlq.db'}" if given else ""
    # The shell says when agent-tui has really exited, so the terminal is never torn down mid-shutdown.
    tmux.start(
        f"{agent_tui} --follow {logs}{option}; echo agent-tui-exited-$?; sleep 60", width=160, height=45
    )
    screen = tmux.wait_for(lambda s: "DLQ " in s and "open (dlq.db)" in s)
    assert "crit/err/warn/info" in screen
    tmux.send("D")
    screen = tmux.wait_for(lambda s: "unresolved of" in s and ("TIMEOUT" in s or "INSUFFICIENT_MARGIN" in s))
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: "Traceback (most recent call last):" in s)
    assert "TimeoutError" in screen or "LookupError" in screen
    assert "ERR" in screen
    tmux.send("q")
    tmux.wait_for(lambda s: "agent-tui-exited-0" in s, limit=30)
