"""``agent-tui query [FILTER] PATH…``: print the records a filter matches, as their original JSONL lines.

A record is what ``stats`` and the TUI count (``agent_tui.model.parsing.recordlines``): blank lines are none,
an OTLP/JSON export line holds several, a Docker message split into partial lines is one. The filter judges
each record (a Docker record joined whole); the output is the original lines of the matching records,
each line once, in file order: an OTLP line is printed once however many of its records match, a joined
Docker record as all its pieces. ``--count`` counts matching records, so it can be smaller than the
number of lines printed (pieces) or larger (several records on one line).

Exit status: 0 when something matched, 1 when nothing did, 2 for a bad filter, path or time.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import os
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Protocol

from agent_tui.cli.common import (
    EXIT_ERROR,
    EXIT_MATCH,
    EXIT_NO_MATCH,
    SourceFailedError,
    UsageError,
    add_field_argument,
    add_time_arguments,
    check_paths,
    compile_or_report,
    field_overrides,
    is_remote,
    source_problem,
    time_bounds,
)
from agent_tui.cli.output import palette_for, record_line
from agent_tui.cli.scanfiles import STREAM_BLOCK, scan_path, scan_stream
from agent_tui.model.parsing.parse import LineParser, attrs_of
from agent_tui.model.query import compile_filter
from agent_tui.model.query.scan import Scanner, ScanPlan

__all__ = ["add_arguments", "run", "scan_path", "scan_sources", "scan_stream", "split_positionals"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``query`` options."""
    parser.usage = "%(prog)s [options] [FILTER] PATH..."
    parser.epilog = (
        "records: a record is what stats and the TUI count. Blank lines are none; an OTLP/JSON export line "
        "holds several; a Docker json-file message split into partial lines is one, judged joined. Output "
        "is the original lines of the matching records, each line once, in order: an OTLP line once "
        "however many of its records match, a split Docker record as all its pieces; --count counts "
        "records. exit status: 0 something matched, 1 nothing matched, 2 bad filter, path or time"
    )
    parser.add_argument(
        "args",
        nargs="+",
        metavar="[FILTER] PATH",
        help="a filter expression (the jq select(...) recipes work verbatim), then files, directories, "
        ".gz files, '-' for stdin or URLs; a lone FILTER reads stdin",
    )
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new matching lines")
    parser.add_argument(
        "-c",
        "--count",
        action="store_true",
        help="print only the number of matching records (as stats counts them, not lines)",
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "pretty"),
        default="jsonl",
        help="jsonl: the original lines of the matching records, byte for byte, each line once (an OTLP "
        "line holding several records once, a Docker record split in pieces as all its pieces; default); "
        "pretty: one coloured line per record of those lines",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="processes for big files (default: up to 2)"
    )
    add_field_argument(parser)
    add_time_arguments(parser, intermixed=True)


def split_positionals(values: Sequence[str]) -> tuple[str | None, list[str]]:
    """``(filter, paths)`` from the positionals: the first is the filter when more follow or it is no path."""
    if len(values) >= 2:
        return values[0], list(values[1:])
    only = values[0]
    if only == "-" or is_remote(only) or os.path.exists(only):
        return None, [only]
    return only, ["-"]


def run(args: argparse.Namespace) -> int:
    """Run the query; returns the exit status."""
    text, paths = split_positionals(args.args)
    try:
        since, until = time_bounds(args)
        fields = field_overrides(args.field)
    except UsageError as err:
        print(f"agent-tui: {err}", file=sys.stderr)
        return EXIT_ERROR
    filt = None
    if text is not None:
        filt = compile_or_report(text, streaming=True)
        if filt is None:
            return EXIT_ERROR
    problem = check_paths(paths)
    if problem is not None:
        print(f"agent-tui: {problem}", file=sys.stderr)
        return EXIT_ERROR
    if paths == ["-"] and sys.stdin.isatty() and not args.follow:
        print("agent-tui: no PATH given and stdin is a terminal", file=sys.stderr)
        return EXIT_ERROR
    if args.follow and filt is not None and filt.trace_scoped:
        print(
            "agent-tui: trace:(...) keeps whole traces, so it cannot be used with --follow", file=sys.stderr
        )
        return EXIT_ERROR
    plan = ScanPlan(filter=filt, since=since, until=until, count_only=args.count, fields=fields)
    sink = _Sink(args.format, args.count, fields)
    try:
        if args.follow:
            total = _read_sources(paths, plan, sink.out, follow=True)
        elif filt is not None and filt.trace_scoped:
            total = scan_traces(paths, plan, sink.out, args.workers)
        else:
            total = scan_sources(paths, plan, sink.out, args.workers)
    except SourceFailedError:
        return EXIT_ERROR
    finally:
        sink.close()
    if args.count:
        sys.stdout.write(f"{total}\n")
    return EXIT_MATCH if total else EXIT_NO_MATCH


class _Out(Protocol):
    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> None: ...


class _Sink:
    """Where matching lines go: stdout bytes as-is, or rendered pretty lines."""

    def __init__(self, fmt: str, count_only: bool, fields: Mapping[str, str] | None = None) -> None:
        self.out: _Out | None = None if count_only else sys.stdout.buffer
        self.pretty = fmt == "pretty" and not count_only
        if self.pretty:
            self.out = _PrettyWriter(fields)

    def close(self) -> None:
        if self.out is not None:
            self.out.flush()


class _PrettyWriter:
    """A byte sink that renders each JSONL line it receives as one safe, optionally coloured text line."""

    def __init__(self, fields: Mapping[str, str] | None = None) -> None:
        self._parser = LineParser(fields)
        self._palette = palette_for(sys.stdout)
        self._tail = b""

    def write(self, data: bytes) -> int:
        chunk = self._tail + data
        cut = chunk.rfind(b"\n") + 1
        self._tail = chunk[cut:]
        rendered = [
            record_line(parsed, line, self._palette, attrs_of)
            for line in chunk[:cut].split(b"\n")[:-1]
            for parsed in self._parser.parse(line)
        ]
        if rendered:
            sys.stdout.write("\n".join(rendered) + "\n")
        return len(data)

    def flush(self) -> None:
        sys.stdout.flush()


class _TraceIds:
    """A byte sink that keeps the trace id of every line written to it."""

    def __init__(self, fields: Mapping[str, str] | None = None) -> None:
        self._parser = LineParser(fields)
        self.ids: set[str] = set()

    def write(self, data: bytes) -> int:
        for line in data.split(b"\n"):
            if line:
                self.ids.update(p.trace_id for p in self._parser.parse(line) if p.trace_id)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""


def scan_traces(paths: Sequence[str], plan: ScanPlan, out: _Out | None, workers: int | None = None) -> int:
    """``trace:(inner)``: print every record (in the time bounds) of each trace with a record matching inner.

    Two passes: the first collects the trace ids of matching records, the second prints those traces'
    lines in file order. Standard input is spooled to a temporary file so it can be read twice.
    """
    assert plan.filter is not None and plan.filter.inner is not None
    with tempfile.TemporaryFile() as spool:
        if "-" in paths:
            while block := sys.stdin.buffer.read(STREAM_BLOCK):
                spool.write(block)
        sources = [f"/dev/fd/{spool.fileno()}" if path == "-" else path for path in paths]

        def scan(each: ScanPlan, sink: _Out | None) -> int:
            spool.seek(0)
            return sum(_scan_one(path, each, sink, workers) for path in sources)

        found = _TraceIds(plan.fields)
        scan(dataclasses.replace(plan, filter=plan.filter.inner, count_only=False), found)
        if not found.ids:
            return 0
        ids = ", ".join(_quote(trace_id) for trace_id in sorted(found.ids))
        return scan(dataclasses.replace(plan, filter=compile_filter(f"trace_id in [{ids}]")), out)


def _quote(value: str) -> str:
    """A filter-language string literal (the same escapes as JSON)."""
    import json  # noqa: PLC0415 -- only trace-scoped queries quote ids

    return json.dumps(value)


def scan_sources(paths: Sequence[str], plan: ScanPlan, out: _Out | None, workers: int | None = None) -> int:
    """Scan every source to its end, writing matching original lines to ``out``; returns the match count.

    Regular files take the memory-mapped fast path, ``-`` and ``.gz`` are scanned as streams, anything
    else (directories, URLs) is read through ``open_source``.
    """
    return sum(_scan_one(path, plan, out, workers) for path in paths)


def _scan_one(path: str, plan: ScanPlan, out: _Out | None, workers: int | None) -> int:
    if path == "-":
        return scan_stream(sys.stdin.buffer, plan, out)
    if path.endswith(".gz") and os.path.isfile(path):
        with gzip.open(path, "rb") as fh:
            return scan_stream(fh, plan, out)
    if not is_remote(path) and os.path.isfile(path) and stat.S_ISREG(os.stat(path).st_mode):
        return scan_path(path, plan, out, workers=workers)
    return _read_sources([path], plan, out, follow=False)


def _read_sources(paths: Sequence[str], plan: ScanPlan, out: _Out | None, *, follow: bool) -> int:
    """Read sources through ``open_source`` (directories, URLs, following), all at once."""
    import asyncio  # noqa: PLC0415 -- only this path needs an event loop

    async def gather() -> int:
        tasks = [asyncio.create_task(_pump(path, Scanner(plan), out, follow)) for path in paths]
        return sum(await asyncio.gather(*tasks))

    if not follow:
        return asyncio.run(gather())
    # Following ends only by a signal: sources are closed, then the process exits with 128 + signum.
    from agent_tui.shutdown import ExitGuard, run_until_signal  # noqa: PLC0415 -- loads asyncio

    guard = ExitGuard()
    guard.install()
    total = run_until_signal(gather(), guard)
    guard.exit_if_stopped()
    return total or 0


async def _pump(path: str, scanner: Scanner, out: _Out | None, follow: bool) -> int:
    # Imported on use: scanning a plain file (the common, timed case) never needs asyncio or the sources.
    from agent_tui.sources.base import LineBatch, SourceState, SourceStatus  # noqa: PLC0415
    from agent_tui.sources.factory import open_source  # noqa: PLC0415
    from agent_tui.sources.options import SourceOptions  # noqa: PLC0415

    source = open_source(path, SourceOptions(follow=follow))
    total = 0
    try:
        async for item in source.stream():
            if isinstance(item, SourceStatus):
                # Only trouble is worth a line on stderr: errors and lost connections, not progress.
                if item.state in (SourceState.ERROR, SourceState.RECONNECTING, SourceState.WAITING):
                    print(
                        source_problem(item.source, item.state.value, item.reason, follow=follow),
                        file=sys.stderr,
                    )
                    if not follow:
                        # Without --follow nobody waits for a retry: a source we cannot read is an error.
                        raise SourceFailedError(item.source)
                continue
            if not isinstance(item, LineBatch) or not item.lines:
                continue
            # One buffer per batch lets the scanner use its byte-level shortcuts here too.
            count, matched = scanner.scan(b"\n".join(item.lines) + b"\n")
            total += count
            if matched and out is not None:
                out.write(b"\n".join(matched) + b"\n")
                out.flush()
    finally:
        await source.close()
    return total
