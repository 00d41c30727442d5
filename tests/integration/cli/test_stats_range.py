"""`agent-tui stats` reports the earliest and newest times, whatever order the lines are in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_range_and_windows_for_a_file_with_a_banner_and_late_lines(tmp_path: Path) -> None:
    """A leading banner and a line written late neither reverse the range nor empty the windows."""
    log = tmp_path / "agent.jsonl"
    log.write_text(
        "agent v1.2 starting\n"
        '{"ts":"2026-03-04T03:21:45.000Z","level":"info","event":"b"}\n'
        '{"ts":"2026-03-04T03:21:46.000Z","level":"error","event":"c"}\n'
        '{"ts":"2026-03-04T03:21:44.000Z","level":"info","event":"a, written late"}\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "agent_tui", "stats", "--json", str(log)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    data = json.loads(result.stdout)
    assert data["first_ts"] == 1772594504.0
    assert data["last_ts"] == 1772594506.0
    assert data["windows"]["1m"] == {"info": 3, "error": 1}
