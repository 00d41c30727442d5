"""The installed agent-tui in a real terminal (tmux) while a writer process appends and rotates files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from .conftest import Tmux

pytestmark = pytest.mark.e2e

T0 = 1772582400.0
TB = [
    "Traceback (most recent call last):",
    '  File "casino/client.py", line 88, in place_bet',
    "TimeoutError: casino API did not answer within 5.0 s",
]

WRITER = r"""
import os, sys, time, orjson
path = sys.argv[1]
def rec(i, level, event, **kw):
    return orjson.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "level": level,
                         "event": event, "agent_id": "writer", **kw}) + b"\n"
def write(data):
    with open(path, "ab") as f:
        f.write(data)
for i in range(40):
    write(rec(i, "info", "marker.before_rotate", n=i))
    time.sleep(0.02)
os.rename(path, path + ".1")
for i in range(40):
    write(rec(i, "info", "marker.after_rotate", n=i))
    time.sleep(0.02)
write(rec(0, "critical", "wallet.key_revoked", error={"type": "AuthError", "message": "key revoked"}))
for i in range(600):
    write(rec(i, "info", "tail.heartbeat", n=i))
    time.sleep(0.05)
"""


def _history(path: Path) -> None:
    out = []
    for i in range(30):
        out.append(
            {
                "ts": f"2026-03-04T00:00:{i:02d}.000Z",
                "level": "info",
                "event": "bet.placed",
                "agent_id": "agent-1",
                "trace_id": f"t_ok{i:04d}",
                "amount_usdc": i,
            }
        )
    root, child = "a" * 16, "b" * 16
    err = {"type": "TimeoutError", "message": "casino API did not answer within 5.0 s", "traceback": TB}
    base = {"agent_id": "agent-2", "trace_id": "t_fail0001"}
    out += [
        {
            "ts": "2026-03-04T00:01:00.000Z",
            "level": "info",
            "event": "trace.start",
            **base,
            "span_id": root,
            "op": "casino.place_bet",
        },
        {
            "ts": "2026-03-04T00:01:00.100Z",
            "level": "info",
            "event": "trace.start",
            **base,
            "span_id": child,
            "parent_span_id": root,
            "op": "http.post",
        },
        {
            "ts": "2026-03-04T00:01:05.100Z",
            "level": "error",
            "event": "trace.failed",
            **base,
            "span_id": child,
            "parent_span_id": root,
            "op": "http.post",
            "duration_ms": 5000,
            "error": err,
        },
        {
            "ts": "2026-03-04T00:01:05.200Z",
            "level": "error",
            "event": "trace.failed",
            **base,
            "span_id": root,
            "op": "casino.place_bet",
            "duration_ms": 5200,
            "error": err,
        },
    ]
    for i in range(10):
        out.append({"ts": f"2026-03-04T00:02:{i:02d}.000Z", "level": "info", "event": "heartbeat", "n": i})
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in out))


def test_follow_shows_new_lines_across_rotation_and_toasts_a_critical(
    tmp_path: Path, tmux: Tmux, agent_tui: str
) -> None:
    """Lines appended by another process appear, survive a rename rotation, and a critical raises a toast."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "agent.jsonl").write_bytes(b"")
    tmux.start(f"{agent_tui} --follow {logs}")
    tmux.wait_for(lambda s: "FOLLOW" in s)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(logs / "agent.jsonl")])
    try:
        tmux.wait_for(lambda s: "marker.before_rotate" in s)
        tmux.wait_for(lambda s: "marker.after_rotate" in s)
        screen = tmux.wait_for(lambda s: "CRITICAL" in s and "wallet.key_revoked" in s)
        assert "AuthError" in screen
        tmux.wait_for(lambda s: "tail.heartbeat" in s)
        tmux.send("q")
        tmux.wait_for(lambda s: "FOLLOW" not in s, limit=10)
    finally:
        proc.kill()
        proc.wait()


def test_from_start_e_then_enter_shows_the_failing_span_traceback(
    tmp_path: Path, tmux: Tmux, agent_tui: str
) -> None:
    """The on-call path: launch, e, enter — the failing span's traceback is on screen in two keystrokes."""
    logs = tmp_path / "logs"
    logs.mkdir()
    _history(logs / "agent.jsonl")
    tmux.start(f"{agent_tui} --follow {logs}")
    tmux.wait_for(lambda s: "heartbeat" in s)
    tmux.send("e")
    tmux.wait_for(lambda s: "trace.failed" in s)
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: 'File "casino/client.py", line 88, in place_bet' in s)
    assert "TimeoutError: casino API did not answer within 5.0 s" in screen
    assert "casino.place_bet" in screen


def test_runs_at_80x24_with_no_color(tmp_path: Path, tmux: Tmux, agent_tui: str) -> None:
    """At 80×24 under NO_COLOR the stats bar, rows and footer all fit and q quits."""
    logs = tmp_path / "logs"
    logs.mkdir()
    _history(logs / "agent.jsonl")
    tmux.start(f"{agent_tui} {logs}", width=80, height=24, env={"NO_COLOR": "1"})
    screen = tmux.wait_for(lambda s: "heartbeat" in s and "crit/err/warn/info" in s)
    assert len(screen.splitlines()) <= 24
    tmux.send("q")
    tmux.wait_for(lambda s: "crit/err/warn/info" not in s, limit=10)


def test_demo_shows_live_logs_errors_and_a_critical_within_seconds(tmux: Tmux, agent_tui: str) -> None:
    """`agent-tui demo` opens following a simulated fleet: rows, rolling counts and a critical toast."""
    tmux.start(f"{agent_tui} demo")
    screen = tmux.wait_for(lambda s: "FOLLOW" in s and "trace.start" in s, limit=30)
    assert "crit/err/warn/info" in screen
    tmux.wait_for(lambda s: "CRITICAL" in s, limit=45)
    tmux.send("t")
    tmux.wait_for(lambda s: "✔ OK" in s or "⟳ RUN" in s, limit=15)
    tmux.send("q")
    tmux.wait_for(lambda s: "crit/err/warn/info" not in s, limit=15)
