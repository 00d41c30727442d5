"""Real processes around a dead-letter database: writers through ``DeadLetterQueue`` and lock holders.

Run as ``python -m tests.dlqtools ROLE DB ...`` from the repository root; the helpers below start them.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
SEED_SCHEMA = (
    "CREATE TABLE dead_letters (operation_type TEXT, error_code TEXT, error_message TEXT,"
    " last_attempt_ts INTEGER, resolved INTEGER)"
)
"""A table holding only the columns the seed's step-1 query names."""


def spawn(*args: str, stdin: bool = False) -> subprocess.Popen[str]:
    """Start ``python -m tests.dlqtools ARGS`` in the repository root."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.dlqtools", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_line(stream: IO[str] | None, expected: str, limit: float = 30.0) -> None:
    """Read lines until ``expected`` arrives (the child says it is ready)."""
    assert stream is not None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise AssertionError(f"child exited before saying {expected!r}")
        if line.strip() == expected:
            return
    raise AssertionError(f"child never said {expected!r}")


class LockHolder:
    """A child process holding a write transaction on ``db`` until ``release()``."""

    def __init__(self, db: Path, mode: str = "IMMEDIATE", *, seed_table: bool = False) -> None:
        self.proc = spawn("hold", str(db), mode, "seed" if seed_table else "ours", stdin=True)
        wait_line(self.proc.stdout, "locked")

    def release(self) -> str:
        """Let the child commit and exit; returns what it printed after committing."""
        assert self.proc.stdin is not None
        out, err = self.proc.communicate("go\n", timeout=30)
        assert self.proc.returncode == 0, err
        return out.strip()

    def kill(self) -> None:
        """Stop the child if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _write(db: str, count: str, tag: str) -> None:
    """Put ``count`` entries, each inside its own trace, logging to stdout as JSON lines."""
    from agent_tui.log import JsonFormatter, trace
    from agent_tui.log.dlq import DeadLetterQueue

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(f"agent-{tag}", "dlq-test"))
    log = logging.getLogger("dlq-test")
    log.addHandler(handler)
    log.propagate = False
    with DeadLetterQueue(db, agent_id=f"agent-{tag}", logger=log) as queue:
        for n in range(int(count)):
            with trace("job.run", logger=log):
                try:
                    raise TimeoutError(f"job {tag}-{n} timed out")
                except TimeoutError as exc:
                    queue.put("job", exc, payload={"tag": tag, "n": n, "token": "s3cr3t"}, attempts=n + 1)


def _hold(db: str, mode: str, table: str) -> None:
    """Open a write transaction (an uncommitted row in it), say ``locked``, commit on a stdin line."""
    conn = sqlite3.connect(db, isolation_level=None)
    if table == "seed":
        conn.execute(SEED_SCHEMA.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
    conn.execute(f"BEGIN {mode}")
    conn.execute(
        "INSERT INTO dead_letters (operation_type, error_code, error_message, last_attempt_ts, resolved)"
        " VALUES ('held', 'LOCK', 'written while a reader looked', 1772582400, 0)"
    )
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    print("committed", flush=True)
    conn.close()


def _crash(db: str) -> None:
    """Leave a hot journal: a rollback-mode transaction big enough to spill, then die without cleanup."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA cache_size = 1")
    conn.execute(SEED_SCHEMA.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
    conn.execute("BEGIN")
    for n in range(5000):
        conn.execute("INSERT INTO dead_letters VALUES ('bet', 'T', ?, 1772582400, 0)", ("x" * 200 + str(n),))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    role, *rest = sys.argv[1:]
    {"write": _write, "hold": _hold, "crash": _crash}[role](*rest)
