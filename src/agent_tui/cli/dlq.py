"""``agent-tui dlq DB…``: the seed's dead-letter query as a table or JSONL, the database opened read-only."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence

import orjson

from agent_tui.cli.common import (
    EXIT_ERROR,
    EXIT_MATCH,
    EXIT_NO_MATCH,
    UsageError,
    add_time_arguments,
    time_bounds,
)
from agent_tui.cli.output import Palette, clean, palette_for
from agent_tui.model.deadletters.reader import (
    KNOWN_COLUMNS,
    MAX_ROWS,
    DeadLetter,
    DeadLetterDbError,
    DeadLetterQuery,
    DeadLetterTable,
    entries_of_trace,
    find_dead_letter_dbs,
    read_dead_letters,
)

__all__ = ["TraceDeadLetters", "add_arguments", "age", "render_entries", "run", "trace_dead_letters"]

_MESSAGE_WIDTH = 100
# header, the column it needs (None: always shown), how to print an entry's value
_Cell = Callable[[DeadLetter, float], str]
_COLUMNS: tuple[tuple[str, str | None, _Cell], ...] = (
    ("ID", None, lambda e, _now: str(e.id)),
    ("LAST ATTEMPT (UTC)", "last_attempt_ts", lambda e, _now: _when(e.last_attempt_ts)),
    ("AGE", "last_attempt_ts", lambda e, now: age(e.last_attempt_ts, now)),
    ("AGENT", "agent_id", lambda e, _now: e.agent_id or e.service or "-"),
    ("OPERATION", "operation_type", lambda e, _now: e.operation_type or "-"),
    ("CODE", "error_code", lambda e, _now: e.error_code or "-"),
    ("ATTEMPTS", "attempts", lambda e, _now: "-" if e.attempts is None else str(e.attempts)),
    ("TRACE", "trace_id", lambda e, _now: e.trace_id or "-"),
    ("RESOLVED", "resolved", lambda e, _now: "yes" if e.resolved else "no"),
    ("MESSAGE", "error_message", lambda e, _now: _message(e.error_message)),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``dlq`` options."""
    parser.add_argument("dbs", nargs="+", metavar="DB", help="SQLite file(s) with a dead_letters table")
    parser.add_argument("--all", action="store_true", help="resolved entries too (default: unresolved only)")
    parser.add_argument("--json", action="store_true", help="one JSON object per entry (JSONL)")
    add_time_arguments(parser)
    parser.add_argument(
        "--limit",
        type=int,
        default=20,
        metavar="N",
        help="newest N entries per database (default 20, 0 = all)",
    )


def age(ts: float | None, now: float) -> str:
    """How long ago: ``45s``, ``12m``, ``3h``, ``2d`` (``?`` without a time)."""
    if ts is None:
        return "?"
    seconds = max(0.0, now - ts)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _when(ts: float | None) -> str:
    return "?" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def _message(text: str | None) -> str:
    shown = clean(text or "-")
    return shown if len(shown) <= _MESSAGE_WIDTH else shown[: _MESSAGE_WIDTH - 1] + "…"


def render_entries(
    entries: Sequence[DeadLetter], columns: Sequence[str], now: float, palette: Palette, *, resolved: bool
) -> list[str]:
    """A fixed-width table of ``entries``; columns the table lacks are left out, problems noted below."""
    shown = [
        (head, cell)
        for head, need, cell in _COLUMNS
        if (need is None or need in columns) and (resolved or need != "resolved")
    ]
    rows = [[clean(cell(e, now)) for _, cell in shown] for e in entries]
    widths = [max([len(head), *(len(r[i]) for r in rows)]) for i, (head, _) in enumerate(shown)]
    out = [
        palette.bold
        + "  ".join(h.ljust(w) for (h, _), w in zip(shown, widths, strict=True)).rstrip()
        + palette.reset
    ]
    for entry, row in zip(entries, rows, strict=True):
        colour = palette.dim if entry.resolved else ""
        text = "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        mark = f" {palette.yellow}⚠{palette.reset}" if entry.problems else ""
        out.append(f"{colour}{text}{palette.reset if colour else ''}{mark}")
    for entry in entries:
        for problem in entry.problems:
            out.append(f"{palette.yellow}⚠ {clean(str(entry.id))}: {clean(problem)}{palette.reset}")
    return out


def _read(
    dbs: Sequence[str], query: DeadLetterQuery, prog: str = "agent-tui dlq"
) -> tuple[list[DeadLetterTable], int]:
    tables: list[DeadLetterTable] = []
    failures = 0
    for db in dbs:
        try:
            tables.append(read_dead_letters(db, query, timeout=2.0))
        except DeadLetterDbError as exc:
            print(f"{prog}: {clean(str(exc))}", file=sys.stderr)
            failures += 1
    return tables, failures


class TraceDeadLetters:
    """The dead letters stored in one trace, for ``agent-tui trace``."""

    def __init__(self, entries: Sequence[DeadLetter], columns: Sequence[str]) -> None:
        self.entries = list(entries)
        self.columns = tuple(columns)

    def lines(self, palette: Palette) -> list[str]:
        """A heading and the entries' table (nothing when there are none)."""
        if not self.entries:
            return []
        table = render_entries(self.entries, self.columns, time.time(), palette, resolved=True)
        return ["", f"{palette.bold}Dead letters ({len(self.entries)}){palette.reset}", *table]

    def json(self) -> list[dict[str, object]]:
        """The entries as JSON data."""
        return [e.to_json(self.columns) for e in self.entries]


def trace_dead_letters(trace_id: str, dbs: Sequence[str], paths: Sequence[str]) -> TraceDeadLetters:
    """Entries of ``trace_id`` in ``dbs`` and in the dead-letter databases found in directories of ``paths``.

    A database that cannot be read is reported on stderr and skipped.
    """
    found = [db for path in paths if os.path.isdir(path) for db in find_dead_letter_dbs(path)]
    query = DeadLetterQuery(include_resolved=True, trace_id=trace_id)
    tables, _failures = _read(list(dict.fromkeys([*dbs, *found])), query, "agent-tui trace")
    have = {c for table in tables for c in table.columns}
    return TraceDeadLetters(entries_of_trace(tables, trace_id), [c for c in KNOWN_COLUMNS if c in have])


def run(args: argparse.Namespace) -> int:
    """Print each database's entries; 0 when some were shown, 1 when none, 2 when a database failed."""
    now = time.time()
    try:
        since, until = time_bounds(args)
    except UsageError as exc:
        print(f"agent-tui dlq: {exc}", file=sys.stderr)
        return EXIT_ERROR
    # One row past the limit tells whether there are more than shown.
    query = DeadLetterQuery(args.all, since, until, args.limit + 1 if args.limit > 0 else MAX_ROWS)
    tables, failures = _read(args.dbs, query)
    shown = 0
    out = sys.stdout
    palette = palette_for(out)
    for table in tables:
        entries = table.entries[: args.limit] if args.limit > 0 else table.entries
        shown += len(entries)
        if args.json:
            data = b"".join(orjson.dumps(e.to_json(table.columns)) + b"\n" for e in entries)
            out.flush()
            sys.stdout.buffer.write(data)
            continue
        if len(args.dbs) > 1:
            out.write(f"{palette.bold}{clean(table.db)}{palette.reset}\n")
        if entries:
            lines = render_entries(entries, table.columns, now, palette, resolved=args.all)
            out.write("\n".join(lines) + "\n")
        more = " (more not shown: --limit N, 0 = all)" if len(entries) < len(table.entries) else ""
        out.write(f"{table.unresolved} unresolved of {table.total} in {clean(table.db)}{more}\n")
        for note in table.notes:
            out.write(f"{note}\n")
    out.flush()
    if failures:
        return EXIT_ERROR
    return EXIT_MATCH if shown else EXIT_NO_MATCH
