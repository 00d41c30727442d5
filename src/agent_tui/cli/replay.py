"""``agent-tui replay PATH…``: recorded lines played again on a scaled clock, into the TUI or to stdout."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import BinaryIO

from agent_tui.cli.common import EXIT_ERROR, EXIT_MATCH, EXIT_NO_MATCH, UsageError, check_paths, parse_time
from agent_tui.cli.flagopts import add_flag_arguments, thresholds_from
from agent_tui.model.replay import Cue, Player, ReplayClock, read_cues

__all__ = ["add_arguments", "replay_to", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``replay`` options."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="recorded files, .gz or directories")
    parser.add_argument("--speed", type=float, default=1.0, help="how many times faster than recorded (1)")
    parser.add_argument("--from", dest="start", metavar="TIME", help="start at this record time (RFC 3339)")
    parser.add_argument("--to", dest="stop", metavar="TIME", help="stop after this record time (RFC 3339)")
    parser.add_argument("--stdout", action="store_true", help="write the lines to stdout with their timing")
    parser.add_argument("--theme", default=None, help="dark, light, high-contrast or mono (NO_COLOR → mono)")
    parser.add_argument("--export-dir", type=Path, default=None, help="where x writes exports (default .)")
    add_flag_arguments(parser)


def _bounds(args: argparse.Namespace) -> tuple[float | None, float | None]:
    start = parse_time(args.start) if args.start else None
    stop = parse_time(args.stop) if args.stop else None
    if start is not None and stop is not None and stop < start:
        raise UsageError("--to is before --from")
    if not 0 < args.speed <= 4096:
        raise UsageError("--speed must be above 0 and at most 4096")
    return start, stop


async def replay_to(out: BinaryIO, player: Player) -> None:
    """Write each cue's line (and its newline) to ``out`` when its time comes."""

    async def write(cue: Cue) -> None:
        out.write(cue.line + b"\n")
        out.flush()

    await player.play(write)


def run(args: argparse.Namespace) -> int:
    """Replay; 0 when lines were played, 1 when none fell in the bounds, 2 for a bad path or option."""
    problem = check_paths(args.paths)
    try:
        start, stop = _bounds(args)
        thresholds = thresholds_from(args)
    except (UsageError, ValueError) as exc:
        problem = problem or str(exc)
    if problem is not None:
        print(f"agent-tui: {problem}", file=sys.stderr)
        return EXIT_ERROR
    cues = read_cues(args.paths, start, stop)
    if not cues:
        print("agent-tui: no lines to replay in that range", file=sys.stderr)
        return EXIT_NO_MATCH
    player = Player(cues, ReplayClock(cues[0].at, args.speed))
    if args.stdout:
        asyncio.run(replay_to(sys.stdout.buffer, player))
        return EXIT_MATCH
    from agent_tui.tui.replay import make_replay_app  # noqa: PLC0415 -- Textual only for the screen

    app = make_replay_app(player, theme=args.theme, thresholds=thresholds, export_dir=args.export_dir)
    return int(app.run() or 0)
