"""Drive the installed ``agent-tui`` in a real terminal: a private tmux server per test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENT_TUI = Path(sys.executable).parent / "agent-tui"


class Tmux:
    """One tmux server (own socket) running one command in a fixed-size window."""

    def __init__(self) -> None:
        self.socket = f"agent-tui-e2e-{uuid.uuid4().hex[:8]}"

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def start(
        self, command: str, width: int = 120, height: int = 40, env: dict[str, str] | None = None
    ) -> None:
        """Start ``command`` in a detached session of the given size."""
        exports = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        self._tmux(
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            "-s",
            "main",
            f"env -u COLUMNS -u LINES TERM=xterm-256color TZ=UTC {exports} {command}",
        )

    def send(self, *keys: str) -> None:
        """Type keys (tmux key names: Enter, Escape, or literal characters)."""
        for key in keys:
            self._tmux("send-keys", "-t", "main", key)

    def capture(self) -> str:
        """The visible text of the pane."""
        return self._tmux("capture-pane", "-p", "-t", "main")

    def wait_for(self, predicate: Callable[[str], bool], limit: float = 30.0) -> str:
        """Poll the screen until ``predicate(text)`` holds; fail with the last screen otherwise."""
        deadline = time.monotonic() + limit
        text = ""
        while time.monotonic() < deadline:
            try:
                text = self.capture()
            except subprocess.CalledProcessError:
                text = ""
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never matched; last screen:\n{text}")

    def alive(self) -> bool:
        """Whether the session still exists."""
        result = subprocess.run(
            ["tmux", "-L", self.socket, "has-session", "-t", "main"], check=False, capture_output=True
        )
        return result.returncode == 0

    def kill(self) -> None:
        """Stop the server and everything in it, and remove its socket file."""
        path = subprocess.run(
            ["tmux", "-L", self.socket, "display-message", "-p", "#{socket_path}"],
            check=False,
            capture_output=True,
            text=True,
        ).stdout.strip()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False, capture_output=True)
        if path:
            Path(path).unlink(missing_ok=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server, killed after the test."""
    server = Tmux()
    yield server
    server.kill()


@pytest.fixture
def agent_tui() -> str:
    """Path of the installed console script."""
    assert AGENT_TUI.exists(), AGENT_TUI
    assert os.access(AGENT_TUI, os.X_OK)
    return str(AGENT_TUI)
