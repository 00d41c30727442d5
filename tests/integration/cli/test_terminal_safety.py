"""Colour only on a terminal without NO_COLOR, and log text never reaches the terminal as escapes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest

from tests.integration.cli.helpers import AGENT_TUI, FAILED_TRACE, FLEET, MIXED, cli_env, run

ESC = b"\x1b"
BIDI = "\u202e".encode()


def _run_on_pty(*args: str, **env: str) -> bytes:
    """Run agent-tui with stdout on a pseudo-terminal and return everything it wrote there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [AGENT_TUI, *args], stdout=follower, stderr=subprocess.DEVNULL, env=cli_env(**env), close_fds=True
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return b"".join(chunks)


COMMANDS = [
    ("query", "level >= warning", "--format", "pretty", str(FLEET)),
    ("trace", FAILED_TRACE, str(FLEET)),
    ("stats", str(FLEET)),
]


@pytest.mark.parametrize("argv", COMMANDS, ids=["query", "trace", "stats"])
def test_colour_on_a_terminal_and_none_when_piped_or_no_color(argv: tuple[str, ...]) -> None:
    """On a TTY the output is coloured; piped, or with NO_COLOR set even on a TTY, it has no escapes."""
    assert ESC in _run_on_pty(*argv)
    assert ESC not in _run_on_pty(*argv, NO_COLOR="1")
    piped = run(*argv)
    assert piped.returncode == 0
    assert ESC not in piped.stdout


def test_hostile_lines_cannot_inject_escapes_in_pretty_output() -> None:
    """Escapes, OSC titles and bidi overrides in fields and raw lines show as visible text, even on a TTY."""
    out = _run_on_pty("query", "level == error", "--format", "pretty", str(MIXED))
    text = out.decode()
    assert "\\x1b[31mred" in text
    assert "\\x1b]0;title\\x07" in text
    assert "\\u202e" in text
    assert BIDI not in out
    for sequence in (b"\x1b[31mred", b"\x1b]0;", b"\x1b[2J", b"\x1b[H", b"\x1b[5m", b"\x07"):
        assert sequence not in out


def test_hostile_trace_renders_escapes_visibly() -> None:
    """The trace timeline of a hostile record shows its event, op and traceback with escapes made visible."""
    out = _run_on_pty("trace", "t_hostile", str(MIXED))
    assert b"\\x1b[2J" in out
    assert b"\\u202eabc" in out
    for sequence in (b"\x1b[2J", b"\x1b[H", b"\x1b]0;", b"\x07", BIDI):
        assert sequence not in out
