"""``agent-tui [--follow] PATH…``: open the live TUI on logs."""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agent_tui.cli.common import add_field_argument, compile_or_report, field_overrides
from agent_tui.cli.flagopts import add_flag_arguments, thresholds_from
from agent_tui.schema import Level, level_from_name

if TYPE_CHECKING:
    from agent_tui.shutdown import ExitGuard
    from agent_tui.sources.base import Source
    from agent_tui.sources.options import SourceOptions

__all__ = ["add_arguments", "dead_letter_dbs", "open_pushed_down", "parse_since", "run"]

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the TUI's options."""
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files, directories, - (stdin) or URLs")
    parser.add_argument("-f", "--follow", action="store_true", help="keep reading as logs grow")
    parser.add_argument("--theme", default=None, help="dark, light, high-contrast or mono (NO_COLOR → mono)")
    parser.add_argument("--max-records", type=int, default=None, help="keep at most N records (evict oldest)")
    parser.add_argument(
        "-n", "--lines", type=int, default=None, help="history per file: last N lines (0 = none)"
    )
    parser.add_argument("--filter", default=None, help="start with this filter expression")
    parser.add_argument("--since", default=None, help="only records newer than 15m, 2h, 1d or an ISO time")
    parser.add_argument("--level", default=None, help="minimum level to show (e.g. warning)")
    parser.add_argument("--export-dir", type=Path, default=None, help="where x writes exports (default .)")
    parser.add_argument(
        "--dlq",
        action="append",
        default=[],
        metavar="DB",
        help="dead-letter SQLite file for the D view (repeatable; *.db files in a given directory are found)",
    )
    add_field_argument(parser)
    add_flag_arguments(parser)
    remote = parser.add_argument_group("remote sources (http(s)://, loki://, ssh://)")
    remote.add_argument("--token", default=os.environ.get("AGENT_TUI_TOKEN"), help="bearer token")
    remote.add_argument(
        "--header", action="append", default=[], metavar="K=V", help="extra request header (repeatable)"
    )
    remote.add_argument("--ca-file", default=None, help="CA bundle to verify the server with")
    remote.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")


def open_pushed_down(spec: str, options: SourceOptions) -> Source:
    """Open ``spec``; a ``loki://`` source gets its LogQL with the sound part of the filter pushed down."""
    from agent_tui.sources.factory import open_source  # noqa: PLC0415 - see _run

    if options.filter_text and spec.lower().startswith(("loki://", "lokis://")) and not os.path.exists(spec):
        from agent_tui.model.query.logql import push_down  # noqa: PLC0415 - only for Loki
        from agent_tui.sources.loki import query_of  # noqa: PLC0415 - aiohttp only for Loki

        wanted = query_of(spec)
        logql = push_down(wanted.query, options.filter_text, wanted.labels, wanted.level_label)
        options = replace(options, logql=logql)
    return open_source(spec, options)


def parse_since(text: str, now: float) -> float:
    """``15m``/``2h``/``1d``/``30s`` before ``now``, or an ISO 8601 time (UTC when no zone)."""
    match = _DURATION.match(text.strip())
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"cannot read --since {text!r} as a time (try 15m, 2h, 1d or 2026-03-04T03:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _min_level(name: str | None) -> Level | None:
    if name is None:
        return None
    level = level_from_name(name)
    if level is None:
        raise ValueError(f"unknown level {name!r}")
    return level


def _check_options(args: argparse.Namespace) -> None:
    """Reject options the app would otherwise ignore or crash on, before the screen is taken over."""
    thresholds_from(args)
    if args.max_records is not None and args.max_records < 1:
        raise ValueError(f"--max-records must be at least 1, got {args.max_records}")
    if args.theme is not None:
        from textual.theme import BUILTIN_THEMES  # noqa: PLC0415 -- only to name the valid themes

        from agent_tui.tui.themes import load_themes  # noqa: PLC0415 -- see _run

        names = [*sorted(load_themes()), *sorted(BUILTIN_THEMES)]
        if args.theme not in names:
            raise ValueError(f"unknown theme {args.theme!r}: use one of {', '.join(names)}")


def _headers(pairs: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--header needs K=V, got {pair!r}")
        headers[key.strip()] = value.strip()
    return headers


def dead_letter_dbs(given: list[str], paths: list[str]) -> list[str]:
    """``--dlq`` files, then the ``*.db`` files with a ``dead_letters`` table in each directory given."""
    directories = [path for path in paths if os.path.isdir(path)]
    if not directories:
        return list(dict.fromkeys(given))
    from agent_tui.model.deadletters.reader import find_dead_letter_dbs  # noqa: PLC0415 -- SQLite only then

    found = [db for path in directories for db in find_dead_letter_dbs(path)]
    return list(dict.fromkeys([*given, *found]))


def run(args: argparse.Namespace) -> int:
    """Open the sources and run the TUI until the user quits or a signal comes; returns the exit code.

    The cyclic collector stays off from here until the first rows are on screen: start-up builds a few
    hundred thousand long-lived objects (modules, classes, the screen), and collecting while they pile
    up walked them again and again, tens of milliseconds before the first rows. The app freezes them
    and turns collection back on (``GcPacer.started``).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from agent_tui.shutdown import HANGUP, ExitGuard  # noqa: PLC0415 -- under the paused collector

        guard = ExitGuard(at_once=HANGUP)
        guard.install()
        code = _run(args, guard, collector_paused=was_enabled)
        guard.exit_if_stopped(0)
        return code
    finally:
        if was_enabled:
            gc.enable()


def _run(args: argparse.Namespace, guard: ExitGuard, *, collector_paused: bool) -> int:
    # The app's modules load here, with the collector paused (see ``run``); ``--help`` never loads them.
    from agent_tui.sources.options import SourceError, SourceOptions  # noqa: PLC0415
    from agent_tui.tui.factory import make_app  # noqa: PLC0415
    from agent_tui.tui.stdin import detach_stdin  # noqa: PLC0415
    from agent_tui.tui.tailfirst import tail_first_options  # noqa: PLC0415

    paths: list[str] = list(args.paths)
    if not paths:
        if sys.stdin.isatty():
            print("agent-tui: give a file, directory, - or URL (see --help)", file=sys.stderr)
            return 2
        paths = ["-"]
    if args.filter and compile_or_report(args.filter) is None:
        return 2
    try:
        _check_options(args)
        overrides = field_overrides(args.field)
        since = parse_since(args.since, time.time()) if args.since else None
        min_level = _min_level(args.level)
        if "-" in paths:
            detach_stdin()
        options = SourceOptions(
            follow=args.follow,
            lines=args.lines,
            since=since,
            # A server filters with its own field roles: with --field only this side may filter.
            filter_text=None if overrides else args.filter,
            token=args.token,
            headers=_headers(args.header),
            ca_file=args.ca_file,
            tls_verify=not args.insecure,
        )
        sources = []
        history: dict[str, list[str]] = {}
        for spec in paths:
            opened, files = (options, []) if args.max_records else tail_first_options(spec, options)
            sources.append(open_pushed_down(spec, opened))
            if files:
                history[spec] = files
    except (SourceError, ValueError, OSError) as exc:
        print(f"agent-tui: {exc}", file=sys.stderr)
        return 2
    filter_text = args.filter
    if since is not None:
        clause = f"ts >= {since!r}"
        filter_text = f"({filter_text}) and {clause}" if filter_text else clause
    app = make_app(
        sources,
        dead_letters=dead_letter_dbs(args.dlq, paths),
        follow=args.follow,
        theme=args.theme,
        filter_text=filter_text,
        min_level=min_level,
        max_records=args.max_records,
        export_dir=args.export_dir,
        history=history,
        exit_guard=guard,
        collector_paused=collector_paused,
        overrides=overrides,
        thresholds=thresholds_from(args),
    )
    result = app.run()
    return int(result or 0)
