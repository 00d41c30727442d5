"""``agent-tui [--follow] PATH…``: open the live TUI on logs."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the TUI's options."""
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files, directories, - or URLs")
    parser.add_argument("-f", "--follow", action="store_true", help="keep reading as logs grow")


def run(args: argparse.Namespace) -> int:
    """Open the TUI (lands with the TUI issue)."""
    print("agent-tui: the TUI is not built yet; try `agent-tui query`", file=sys.stderr)
    return 2
