"""``agent-tui --field ROLE=KEY FILE`` in a real terminal: the TUI reads the role from the named key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Tmux
from tests.integration.cli.helpers import custom_log

pytestmark = pytest.mark.e2e


def test_tui_counts_and_filters_by_the_overridden_level(tmp_path: Path, tmux: Tmux, agent_tui: str) -> None:
    """With --field level=sev the bar counts the 4 sev=ERROR lines and key 4 shows just those rows."""
    log = custom_log(tmp_path / "custom.jsonl")
    tmux.start(f"{agent_tui} --field level=sev --field event=text {log}", width=120, height=30)
    screen = tmux.wait_for(lambda s: "step.19" in s and "all 0/4/0/16" in s)
    assert "decoy" not in screen
    tmux.send("4")
    screen = tmux.wait_for(lambda s: "step.19" not in s and "step.15" in s)
    assert all(f"step.{i}" in screen for i in (0, 5, 10, 15))
    tmux.send("q")
    tmux.wait_for(lambda s: "crit/err/warn/info" not in s, limit=10)
