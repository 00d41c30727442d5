"""``query --follow`` and ``serve`` end promptly on SIGTERM and SIGHUP, even with their output stalled."""

from __future__ import annotations

import fcntl
import select
import signal
import socket
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli.helpers import AGENT_TUI, cli_env

EXIT_LIMIT_S = 10.0
"""Longer than this after the signal and the process counts as hung (the exit guard's watchdog ends
it 1 s after the signal; the margin is for a loaded machine)."""
SIGNALS = [signal.SIGTERM, signal.SIGHUP]

WRITER = r"""
import sys, time
path = sys.argv[1]
n = 0
while True:
    with open(path, "ab") as f:
        for _ in range(200):
            n += 1
            f.write(b'{"ts":"2026-03-04T00:00:00Z","level":"error","event":"tick","pad":"%s","n":%d}\n'
                    % (b"x" * 200, n))
    time.sleep(0.01)
"""


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Path]:
    """A directory a separate process keeps appending matching lines to."""
    logs = tmp_path / "logs"
    logs.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(logs / "agent.jsonl")])
    yield logs
    proc.kill()
    proc.wait()


def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([AGENT_TUI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())


def _wait_readable(fd: int, limit: float = 30.0) -> None:
    ready, _, _ = select.select([fd], [], [], limit)
    assert ready, "no output in time"


def _stop(proc: subprocess.Popen[bytes], signum: int) -> int:
    """Send ``signum`` and wait for the exit; a process still running after EXIT_LIMIT_S fails the test."""
    proc.send_signal(signum)
    try:
        return proc.wait(timeout=EXIT_LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"still running {EXIT_LIMIT_S} s after signal {signum}") from None


@pytest.mark.parametrize("signum", SIGNALS)
def test_query_follow_ends_on_signal_while_lines_stream_in(writer: Path, signum: int) -> None:
    """query --follow on a growing directory exits with 128+signal, its output read to the end."""
    proc = _start("query", "--follow", "level == error", str(writer))
    assert proc.stdout is not None and proc.stderr is not None
    _wait_readable(proc.stdout.fileno())
    assert _stop(proc, signum) == 128 + signum
    proc.stdout.read()
    assert b"Traceback" not in proc.stderr.read()


@pytest.mark.parametrize("signum", SIGNALS)
def test_query_follow_ends_on_signal_with_nobody_reading_its_output(writer: Path, signum: int) -> None:
    """With stdout full and unread (a stalled pipe), query --follow still exits on the signal."""
    proc = _start("query", "--follow", "", str(writer))
    assert proc.stdout is not None
    _wait_readable(proc.stdout.fileno())
    _wait_stuck_writing(proc)
    assert _stop(proc, signum) == 128 + signum
    proc.stdout.close()


def _wait_stuck_writing(proc: subprocess.Popen[bytes]) -> None:
    """Until ``proc`` sits in write(1, …) with its unread stdout pipe not draining: it is blocked there."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + 30
    before = (-1, "")
    while time.monotonic() < deadline:
        queued = bytearray(4)
        fcntl.ioctl(fd, termios.FIONREAD, queued)
        now = (int.from_bytes(queued, sys.byteorder), " ".join(_syscall(proc.pid)[:2]))
        if now == before and now[1] == "1 0x1":
            return
        before = now
        time.sleep(0.2)
    raise AssertionError(f"never blocked writing its output: {before}")


def _syscall(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return []


@pytest.mark.parametrize("signum", SIGNALS)
def test_serve_ends_on_signal_with_a_client_streaming(writer: Path, signum: int) -> None:
    """serve with an SSE client connected exits 0 on the signal, the stream ended for the client."""
    proc = _start("serve", str(writer), "--port", "0", "--heartbeat", "0.2")
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    assert "://" in line, line
    port = int(line.rsplit(":", 1)[1].split("/")[0])
    client = socket.create_connection(("127.0.0.1", port), timeout=EXIT_LIMIT_S)
    try:
        client.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        assert _stop(proc, signum) == 0
        while client.recv(65536):
            pass
    finally:
        client.close()


@pytest.mark.parametrize("signum", SIGNALS)
def test_serve_stdio_ends_on_signal_with_nobody_reading_its_output(writer: Path, signum: int) -> None:
    """serve --stdio --follow (the ssh:// remote end) exits on the signal even when its stdout is stalled."""
    proc = _start("serve", str(writer), "--stdio", "--follow")
    assert proc.stdout is not None
    _wait_readable(proc.stdout.fileno())
    _wait_stuck_writing(proc)
    # A big write interrupted by the signal may return early (a graceful 0); one that does not is
    # ended by the watchdog (128 + signal). Either way the process is gone.
    assert _stop(proc, signum) in (0, 128 + signum)
    proc.stdout.close()
