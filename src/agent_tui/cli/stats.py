"""``agent-tui stats PATH…``: counts by level and window, top events and errors, slow/costly traces, flags."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from agent_tui.cli.common import (
    EXIT_ERROR,
    EXIT_MATCH,
    EXIT_NO_MATCH,
    SourceFailedError,
    add_field_argument,
    check_paths,
    field_overrides,
    load_model,
)
from agent_tui.cli.flagopts import add_flag_arguments, thresholds_from
from agent_tui.cli.output import Palette, clean, clock, format_value, palette_for
from agent_tui.model.clock import FrozenClock
from agent_tui.model.traces.tracejson import dumps, trace_json
from agent_tui.schema import Level

if TYPE_CHECKING:
    from agent_tui.model.session import LogModel

__all__ = ["add_arguments", "run", "stats_json"]

WINDOWS = (("1m", 60.0), ("5m", 300.0), ("15m", 900.0))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``stats`` options."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, directories, .gz, '-' or URLs")
    parser.add_argument("--json", action="store_true", help="emit the numbers as JSON")
    parser.add_argument("--top", type=int, default=10, help="rows in each top-N table (default 10)")
    add_flag_arguments(parser)
    add_field_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Print the statistics; 0 when there were records, 1 when none, 2 for a bad path."""
    problem = check_paths(args.paths)
    overrides = None
    try:
        thresholds = thresholds_from(args)
        overrides = field_overrides(args.field)
    except ValueError as exc:
        problem = problem or str(exc)
    if problem is not None:
        print(f"agent-tui: {problem}", file=sys.stderr)
        return EXIT_ERROR
    clock_ = FrozenClock(0.0)
    try:
        model = load_model(args.paths, clock_, thresholds, overrides)
    except SourceFailedError:
        return EXIT_ERROR
    data = stats_json(model, clock_, args.top)
    if args.json:
        sys.stdout.buffer.write(dumps(data, indent=True) + b"\n")
    else:
        sys.stdout.write("\n".join(render(data, palette_for(sys.stdout))) + "\n")
    return EXIT_MATCH if data["records"] else EXIT_NO_MATCH


def stats_json(model: LogModel, clock_: FrozenClock, top: int = 10) -> dict[str, Any]:
    """Every number ``stats`` shows, as plain JSON data.

    Windows count back from the newest record's time (files are read back, not followed).
    """
    stats = model.stats
    store = model.store
    # Earliest and newest time, not first and last line: lines are not always written in time order.
    first, last = store.time_bounds() or (None, None)
    if last is not None:
        clock_.set(last)
    levels = {level.label: stats.counts(None).get(level, 0) for level in Level}
    windows = {
        name: {level.label: n for level, n in stats.counts(seconds).items() if n} for name, seconds in WINDOWS
    }
    traces = model.traces.rollup(top)
    return {
        "records": stats.total,
        "raw_records": store.raw_count,
        "first_ts": first,
        "last_ts": last,
        "levels": levels,
        "windows": windows,
        "top_events": [[event, n] for event, n in stats.top_events(top)],
        "top_error_types": [[kind, n] for kind, n in stats.top_error_types(top)],
        "traces": {
            "count": traces.count,
            "failed": traces.failed,
            "running": traces.running,
            "totals": traces.totals,
        },
        "slowest_traces": [trace_json(t) for t in traces.slowest],
        "costliest_traces": [trace_json(t) for t in traces.costliest],
        "flags": model.flags.summary(),
    }


def _table(title: str, rows: list[list[str]], p: Palette) -> list[str]:
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = ["", f"{p.bold}{title}{p.reset}"]
    for row in rows:
        out.append(
            "  "
            + "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return out


def render(data: dict[str, Any], p: Palette) -> list[str]:
    """The human report, every log-derived string cleaned."""
    span = ""
    if data["first_ts"] is not None:
        span = f"  {clock(data['first_ts'], date=True)} → {clock(data['last_ts'], date=True)} UTC"
    out = [f"{p.bold}{data['records']} records{p.reset} ({data['raw_records']} not JSON){span}"]
    rows = [["level", "total", *[name for name, _ in WINDOWS]]]
    for level in Level:
        total = data["levels"][level.label]
        if total:
            counts = [str(data["windows"][name].get(level.label, 0)) for name, _ in WINDOWS]
            rows.append([f"{p.level(level)}{level.label}{p.reset}", str(total), *counts])
    out += _table("by level (windows end at the newest record)", rows, p)
    out += _table("top events", [[clean(e), str(n)] for e, n in data["top_events"]], p)
    out += _table("top error types", [[clean(e), str(n)] for e, n in data["top_error_types"]], p)
    traces = data["traces"]
    totals = "  ".join(f"{k}={format_value(round(v, 6))}" for k, v in traces["totals"].items())
    out += [
        "",
        f"{p.bold}traces{p.reset}  {traces['count']} total, {traces['failed']} failed, "
        f"{traces['running']} running",
        f"  sums: {totals}",
    ]
    for title, key in (("slowest traces", "slowest_traces"), ("costliest traces", "costliest_traces")):
        rows = [["trace", "op", "status", "ms", "amount", "payout", "tokens", "cost_usd"]]
        for t in data[key]:
            rows.append(
                [
                    clean(t["trace_id"]),
                    clean(t["op"] or ""),
                    t["status"],
                    format_value(round(t["duration_ms"] or 0)),
                    format_value(t["amount_usdc"] or 0),
                    format_value(t["payout_usdc"] or 0),
                    format_value(t["tokens"] or 0),
                    format_value(round(t["cost_usd"] or 0, 6)),
                ]
            )
        out += _table(title, rows, p) if len(rows) > 1 else []
    return out + _flags_table(data["flags"], p)


def _flags_table(flags: dict[str, Any], p: Palette) -> list[str]:
    """Traces per flag with the first few ids, then agents in rate-limit storms."""
    out = ["", f"{p.bold}flags{p.reset}"]
    for name, count in flags["counts"].items():
        ids = flags["traces"][name]
        shown = " ".join(clean(tid) for tid in ids[:3]) + (f" (+{len(ids) - 3})" if len(ids) > 3 else "")
        label = f"{p.yellow}{name:<12}{p.reset}" if count else f"{name:<12}"
        out.append(f"  {label} {count:>6}  {shown}".rstrip())
    for agent, reason in flags["agents"].items():
        out.append(f"  {p.yellow}⚑{p.reset} {clean(agent)}: {clean(reason)}")
    return out
