"""``agent-tui query --follow`` keeps printing matching lines a writer appends."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.cli.helpers import AGENT_TUI, cli_env


def _line(n: int, level: str) -> bytes:
    return b'{"ts":"2026-03-04T00:00:%02d.000Z","level":"%s","event":"step","n":%d}\n' % (
        n,
        level.encode(),
        n,
    )


def _read_until(proc: subprocess.Popen[bytes], want: int, deadline_s: float = 30.0) -> list[bytes]:
    """Lines from the child's stdout until ``want`` have arrived or the deadline passes."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + deadline_s
    while buf.count(b"\n") < want and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
    return buf.splitlines()


def test_follow_prints_history_then_appended_matches_only(tmp_path: Path) -> None:
    """History matches come first, then errors appended later, and never the appended info lines."""
    log = tmp_path / "agent.jsonl"
    log.write_bytes(_line(1, "info") + _line(2, "error"))
    # A run started in the background by a shell without job control inherits SIGINT ignored, and so would
    # the child (exec keeps an ignored signal ignored, but resets a handled one): Ctrl-C must reach it.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [AGENT_TUI, "query", "--follow", "level == error", str(log)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(),
        )
    finally:
        signal.signal(signal.SIGINT, inherited)
    try:
        assert _read_until(proc, 1) == [_line(2, "error").rstrip()]
        with log.open("ab") as writer:
            for n in range(3, 9):
                writer.write(_line(n, "error" if n % 2 else "info"))
                writer.flush()
        got = _read_until(proc, 3)
        assert got == [_line(n, "error").rstrip() for n in (3, 5, 7)]
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130, -signal.SIGINT)
