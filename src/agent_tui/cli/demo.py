"""``agent-tui demo``: run a simulated agent fleet into a directory, or open the TUI on one."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import threading
from typing import TextIO

from agent_tui.demo import FleetSummary, run_fleet

__all__ = ["add_arguments", "print_summary", "run"]

FALLBACK_SECONDS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``agent-tui demo``."""
    parser.add_argument("--write", metavar="DIR", help="write the fleet's JSONL logs into DIR (no TUI)")
    parser.add_argument("--agents", type=int, default=4, help="number of simulated agents (default 4)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="records per second, whole fleet (default 20)"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="stop after this many seconds (default: ^C)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for reproducible event content (default 0)")


def print_summary(summary: FleetSummary, out: TextIO) -> None:
    """Counts by level and the files written, as plain text."""
    out.write(
        f"wrote {summary.records} records in {summary.seconds:.1f} s from {len(summary.agents)} agents\n"
    )
    for level, count in summary.counts.items():
        if count:
            out.write(f"  {level:<9}{count:>8}\n")
    for path in summary.files:
        out.write(f"  {path}\n")
    if summary.dead_letters:
        out.write(f"dead letters: {summary.dead_letters}  (agent-tui dlq {summary.dead_letters})\n")


def _fleet(args: argparse.Namespace, directory: str, seconds: float | None) -> int:
    stop = threading.Event()
    try:
        summary = run_fleet(
            directory, agents=args.agents, rate=args.rate, seconds=seconds, seed=args.seed, stop=stop
        )
    except ValueError as exc:
        sys.stderr.write(f"agent-tui demo: {exc}\n")
        return 2
    except KeyboardInterrupt:
        stop.set()
        return 130
    print_summary(summary, sys.stdout)
    return 0


def run(args: argparse.Namespace) -> int:
    """Write the fleet into ``--write DIR``; otherwise hand over to the TUI's demo (or a short fallback)."""
    if args.write:
        return _fleet(args, args.write, args.seconds)
    try:
        tui_demo = importlib.import_module("agent_tui.tui.demo")
    except ModuleNotFoundError as exc:
        if exc.name not in ("textual", "rich"):
            raise  # a broken install must say what is missing, not fall back quietly
        directory = tempfile.mkdtemp(prefix="agent-tui-demo-")
        sys.stderr.write(
            f"agent-tui demo: the TUI is not available; writing {FALLBACK_SECONDS:.0f} s of logs\n"
        )
        return _fleet(args, directory, args.seconds or FALLBACK_SECONDS)
    result: int = tui_demo.run_demo(args)
    return result
