"""`agent-tui query` on Docker json-file logs whose long messages are split into partial lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

FIXTURE = Path(__file__).parents[2] / "fixtures" / "formats" / "docker-json-file.log"


def _query(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "agent_tui", "query", *args], capture_output=True, check=False, timeout=60
    )


def test_split_message_found_by_a_needle_in_its_first_piece() -> None:
    """A filter whose literal sits only in the first partial piece still finds the joined record."""
    lines = FIXTURE.read_bytes().splitlines()
    pieces = [line for line in lines if not orjson.loads(line)["log"].endswith("\n")]
    assert pieces, "fixture lost its partial lines"
    result = _query('event == "llm.prompt"', str(FIXTURE))
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert b"llm.prompt" in out[0]
    assert out == lines[lines.index(out[0]) : lines.index(out[0]) + len(out)]
    assert orjson.loads(out[-1])["log"].endswith("\n")
    assert len(out) == len(pieces) + 1


def test_count_is_the_number_of_matching_records() -> None:
    """--count counts the joined record once, though all its pieces are printed."""
    printed = _query('event == "llm.prompt"', str(FIXTURE)).stdout.splitlines()
    result = _query("--count", 'event == "llm.prompt"', str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 1 < len(printed)
