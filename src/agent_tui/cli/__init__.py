"""The ``agent-tui`` command: the TUI by default, plus query, trace, stats, serve, demo and dlq.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their subcommand runs, so ``agent-tui query`` never loads Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol

__all__ = ["main"]

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "query": ("agent_tui.cli.query", "print matching records as JSONL (like jq select, faster)"),
    "trace": ("agent_tui.cli.trace", "show one trace as a coloured timeline with its span tree"),
    "stats": ("agent_tui.cli.stats", "counts by level and window, top events and error types"),
    "serve": ("agent_tui.cli.serve", "expose a log directory read-only over HTTP"),
    "demo": ("agent_tui.cli.demo", "run a simulated agent fleet (and open the TUI on it)"),
    "replay": ("agent_tui.cli.replay", "play recorded logs again on a scaled clock (TUI or --stdout)"),
    "dlq": ("agent_tui.cli.dlq", "dead letters (the seed's dead_letters table), newest unresolved first"),
}
TUI_MODULE = "agent_tui.cli.tui"


class _Command(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(module: str) -> _Command:
    loaded: _Command = importlib.import_module(module)
    return loaded


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        name = args.pop(0)
        module, help_text = SUBCOMMANDS[name]
        parser = argparse.ArgumentParser(prog=f"agent-tui {name}", description=help_text)
    else:
        module = TUI_MODULE
        parser = argparse.ArgumentParser(
            prog="agent-tui",
            description="Live-tail AI agent JSONL logs as trace trees with filters and rolling counts.",
            epilog="subcommands: " + "; ".join(f"{n} — {h}" for n, (_, h) in SUBCOMMANDS.items()),
        )
    command = _load(module)
    command.add_arguments(parser)
    try:
        return command.run(parser.parse_args(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
