"""Helpers shared by ``query``, ``trace`` and ``stats``: time bounds, filters, paths, loading a model."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_tui.model.clock import Clock
    from agent_tui.model.query import Filter
    from agent_tui.model.session import LogModel
    from agent_tui.model.traces.analysis import Thresholds

__all__ = [
    "EXIT_ERROR",
    "EXIT_MATCH",
    "EXIT_NO_MATCH",
    "SourceFailedError",
    "UsageError",
    "add_field_argument",
    "add_time_arguments",
    "check_paths",
    "compile_or_report",
    "field_overrides",
    "is_remote",
    "load_model",
    "parse_time",
    "source_problem",
    "time_bounds",
]

EXIT_MATCH = 0
EXIT_NO_MATCH = 1
EXIT_ERROR = 2

_DURATION = re.compile(r"\s*-?\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)?\s*\Z")
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    None: 1,
}


class SourceFailedError(RuntimeError):
    """A source could not be read to its end (without ``--follow``); the message names it."""


class UsageError(ValueError):
    """A command-line value that cannot be used; the message says which and why."""


def parse_time(text: str, now: Callable[[], float] = time.time) -> float:
    """Epoch seconds from ``-1h``/``15m`` (that long ago), RFC 3339 / ISO 8601, or epoch seconds.

    Raises:
        UsageError: the text is none of these.
    """
    stripped = text.strip()
    match = _DURATION.match(stripped)
    if match and (match.group(2) or stripped.startswith("-")):
        return now() - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        return float(stripped)
    except ValueError:
        pass
    iso = stripped.replace(" ", "T", 1)
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(f"cannot read {text!r} as a time (try -15m, 1h, or 2026-03-04T03:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def add_field_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--field ROLE=KEY`` (repeatable): read a record role from a key the aliases do not know."""
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="ROLE=KEY",
        help="read ROLE (ts, level, event, trace_id, span_id, parent_span_id, op, error) from KEY, "
        "e.g. --field level=severity (repeatable; a dotted KEY reads a nested value)",
    )


def field_overrides(specs: Sequence[str]) -> Mapping[str, str] | None:
    """The ``{role: key}`` overrides of ``--field`` values (None when there are none).

    Raises:
        UsageError: a value is not ``ROLE=KEY`` or names an unknown role.
    """
    overrides: dict[str, str] = {}
    for spec in specs:
        role, sep, key = spec.partition("=")
        if not sep or not role.strip() or not key.strip():
            raise UsageError(f"--field wants ROLE=KEY (e.g. level=severity), got {spec!r}")
        overrides[role.strip()] = key.strip()
    if not overrides:
        return None
    from agent_tui.model.parsing.parse import LineParser  # noqa: PLC0415 - the parser is the one that knows roles

    try:
        LineParser(overrides)
    except ValueError as exc:
        raise UsageError(f"--field: {exc}") from None
    return overrides


def add_time_arguments(parser: argparse.ArgumentParser, *, intermixed: bool = False) -> None:
    """Add ``--since`` and ``--until``, accepting ``--since -1h`` (argparse alone reads ``-1h`` as an option).

    Args:
        parser: the subcommand's parser.
        intermixed: also let options sit between positionals (``query FILTER --count PATH``).
    """
    parser.add_argument("--since", metavar="TIME", help="only records at or after TIME (-1h, 15m, RFC 3339)")
    parser.add_argument("--until", metavar="TIME", help="only records at or before TIME (-5m, RFC 3339)")
    base = parser.parse_intermixed_args if intermixed else parser.parse_args

    def parse(
        args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        return base(_glue_time_values(sys.argv[1:] if args is None else args), namespace)

    # The dispatcher calls parse_args; this is the one hook it leaves.
    setattr(parser, "parse_args", parse)  # noqa: B010


def _glue_time_values(args: Sequence[str]) -> list[str]:
    glued: list[str] = []
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        following = args[index + 1] if index + 1 < len(args) else ""
        if arg in ("--since", "--until") and following.startswith("-") and len(following) > 1:
            glued.append(f"{arg}={following}")
            skip = True
        else:
            glued.append(arg)
    return glued


def time_bounds(args: argparse.Namespace) -> tuple[float | None, float | None]:
    """The ``(since, until)`` epoch bounds of the parsed arguments."""
    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    if since is not None and until is not None and until < since:
        raise UsageError("--until is before --since")
    return since, until


def compile_or_report(text: str, *, streaming: bool = False) -> Filter | None:
    """Compile a filter, or print the error with a caret under its column to stderr and return None.

    A ``streaming`` caller (``query``) cannot test ``flag``: flags are judged over whole traces.
    """
    # Imported here: commands that take no filter (dlq) start faster without the query package.
    from agent_tui.model.query import FilterError, compile_filter  # noqa: PLC0415

    try:
        compiled = compile_filter(text)
    except FilterError as err:
        print(f"agent-tui: bad filter: {err.message}", file=sys.stderr)
        print(err.caret(), file=sys.stderr)
        return None
    if streaming and compiled.uses_flags:
        print(
            "agent-tui: 'flag' needs the trace index: filter in the TUI, or see 'agent-tui stats' "
            "for the flagged trace ids",
            file=sys.stderr,
        )
        return None
    return compiled


def is_remote(spec: str) -> bool:
    """True for URL sources (``http://``, ``loki://``, ``ssh://``)."""
    return "://" in spec


def check_paths(paths: Sequence[str]) -> str | None:
    """An error message for the first local path that does not exist or cannot be read, else None."""
    for path in paths:
        if path == "-" or is_remote(path):
            continue
        if not os.path.exists(path):
            return f"{path}: no such file or directory"
        if not os.access(path, os.R_OK):
            return f"{path}: permission denied"
    return None


async def _ingest_all(model: LogModel, paths: Sequence[str]) -> None:
    # Imported on use, like the store below: `query` on a plain file never needs asyncio or the store.
    from agent_tui.sources.base import LineBatch, SourceState, SourceStatus  # noqa: PLC0415
    from agent_tui.sources.factory import open_source  # noqa: PLC0415
    from agent_tui.sources.options import SourceOptions  # noqa: PLC0415

    for path in paths:
        if _plain_file(path):
            _load_files(model, [path])
            continue
        source = open_source(path, SourceOptions(follow=False))
        try:
            async for item in source.stream():
                if isinstance(item, LineBatch):
                    model.ingest(item)
                elif isinstance(item, SourceStatus) and item.state in (
                    SourceState.ERROR,
                    SourceState.RECONNECTING,
                ):
                    print(
                        source_problem(item.source, item.state.value, item.reason, follow=False),
                        file=sys.stderr,
                    )
                    raise SourceFailedError(item.source)
        finally:
            await source.close()


def _load_files(model: LogModel, paths: Sequence[str]) -> None:
    """Regular files take the store's indexer, which parses big files in worker processes."""
    from agent_tui.cli.progress import progress_for  # noqa: PLC0415

    for path in paths:
        progress = progress_for(path, sys.stderr)
        try:
            model.load_file(path, progress=progress)
        finally:
            if progress is not None:
                progress.close()


def source_problem(source: str, state: str, reason: str, *, follow: bool) -> str:
    """The stderr line for a source in trouble; without ``--follow`` nobody retries, so don't say so."""
    if not follow:
        state = "cannot read"
        reason = reason.split("; retrying in ", 1)[0]
    return f"agent-tui: {source}: {state}: {reason}"


def _plain_file(path: str) -> bool:
    return path != "-" and not is_remote(path) and not path.endswith(".gz") and os.path.isfile(path)


def load_model(
    paths: Sequence[str],
    clock: Clock | None = None,
    thresholds: Thresholds | None = None,
    overrides: Mapping[str, str] | None = None,
) -> LogModel:
    """Read every source to its end into a fresh ``LogModel`` (records, traces, rolling stats, flags).

    Args:
        paths: files, directories, ``-`` or URLs.
        clock: the model's clock (the system clock by default).
        thresholds: when flags are raised.
        overrides: ``--field`` overrides for the parser.
    """
    from agent_tui.model.clock import SystemClock  # noqa: PLC0415
    from agent_tui.model.session import LogModel  # noqa: PLC0415

    model = LogModel(
        clock=clock if clock is not None else SystemClock(), thresholds=thresholds, overrides=overrides
    )
    if all(map(_plain_file, paths)):
        # No event loop for plain files: asyncio costs ~6 MB resident here and in each parse worker forked.
        _load_files(model, paths)
        return model
    import asyncio  # noqa: PLC0415

    asyncio.run(_ingest_all(model, paths))
    return model
