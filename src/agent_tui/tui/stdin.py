"""Let ``agent-tui -`` read logs from a pipe while the UI reads keys from the terminal."""

from __future__ import annotations

import io
import os
import sys

__all__ = ["detach_stdin"]


def detach_stdin() -> None:
    """Move piped stdin to a new descriptor (``sys.stdin``) and put the controlling terminal on fd 0.

    Textual reads keys from fd 0; the stdin source reads ``sys.stdin``, which now is the pipe.
    Does nothing when stdin already is a terminal.
    """
    if os.isatty(0):
        return
    pipe_fd = os.dup(0)
    tty_fd = os.open("/dev/tty", os.O_RDWR)
    os.dup2(tty_fd, 0)
    os.close(tty_fd)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(pipe_fd, "rb")))
