"""``agent-tui trace TRACE_ID PATH…``: one trace as a timeline with its span tree, durations and traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agent_tui.batch import LineBatch
from agent_tui.cli.common import EXIT_ERROR, EXIT_MATCH, EXIT_NO_MATCH, SourceFailedError, check_paths
from agent_tui.cli.dlq import trace_dead_letters
from agent_tui.cli.output import Palette, clean, clock, format_value, level_badge, palette_for
from agent_tui.cli.query import scan_sources
from agent_tui.model.query import compile_filter
from agent_tui.model.query.nodes import quote
from agent_tui.model.scan import ScanPlan
from agent_tui.model.session import LogModel
from agent_tui.model.tracejson import dumps, outside_spans, trace_tree_json

if TYPE_CHECKING:
    from agent_tui.model.traces import Span, Trace

__all__ = ["add_arguments", "collect_lines", "run"]

_SHOWN_FIELDS = (
    "bet_id",
    "game",
    "amount_usdc",
    "outcome",
    "payout_usdc",
    "error_type",
    "gen_ai.request.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "cost_usd",
    "attempt",
    "retry_after",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``trace`` options."""
    parser.add_argument("trace_id", help="the trace id (W3C 32-hex or any string the logs use)")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, directories, .gz, '-' or URLs")
    parser.add_argument("--json", action="store_true", help="emit the trace as structured JSON")
    parser.add_argument(
        "--dlq",
        action="append",
        default=[],
        metavar="DB",
        help="also list the trace's dead letters from DB (repeatable; *.db in a given directory are found)",
    )


def collect_lines(trace_id: str, paths: Sequence[str]) -> list[bytes]:
    """The original lines of every record whose trace id is ``trace_id``, in file order."""
    plan = ScanPlan(filter=compile_filter(f"trace_id == {quote(trace_id)}"))
    sink = _Collect()
    scan_sources(paths, plan, sink)
    return sink.lines()


class _Collect:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(data)
        return len(data)

    def flush(self) -> None:
        return None

    def lines(self) -> list[bytes]:
        return b"".join(self._parts).splitlines()


def _model_of(lines: list[bytes]) -> LogModel:
    model = LogModel()
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    model.ingest(LineBatch(source="trace", lines=lines, offsets=offsets, file_id="", path="", cursors=[]))
    return model


def run(args: argparse.Namespace) -> int:
    """Print the trace; 0 when found, 1 when no record has that id, 2 for a bad path."""
    problem = check_paths(args.paths)
    if problem is not None:
        print(f"agent-tui: {problem}", file=sys.stderr)
        return EXIT_ERROR
    try:
        lines = collect_lines(args.trace_id, args.paths)
    except SourceFailedError:
        return EXIT_ERROR
    model = _model_of(lines)
    trace = model.traces.get(args.trace_id) if lines else None
    dead = trace_dead_letters(args.trace_id, args.dlq, args.paths)
    if trace is None:
        print(f"agent-tui: no records with trace id {clean(args.trace_id)!r}", file=sys.stderr)
    if args.json:
        doc = {"trace_id": args.trace_id} if trace is None else trace_tree_json(trace, model.store)
        if trace is not None or dead.entries:
            sys.stdout.buffer.write(dumps({**doc, "dead_letters": dead.json()}, indent=True) + b"\n")
    else:
        palette = palette_for(sys.stdout)
        shown = ([] if trace is None else render(trace, model, palette)) + dead.lines(palette)
        if shown:
            sys.stdout.write("\n".join(shown).lstrip("\n") + "\n")
    return EXIT_NO_MATCH if trace is None else EXIT_MATCH


def _sums(trace: Trace) -> dict[str, Any]:
    return {
        "amount_usdc": trace.amount_usdc,
        "payout_usdc": trace.payout_usdc,
        "tokens": trace.tokens,
        "cost_usd": trace.cost_usd,
    }


def _duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "running"
    ms = (end - start) * 1000
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def render(trace: Trace, model: LogModel, palette: Palette) -> list[str]:
    """The human timeline: a header, then spans (indented by depth) with their records in time order."""
    p = palette
    status_colour = p.red if trace.status in ("error", "critical") else p.green
    head = (
        f"{p.bold}Trace {clean(trace.trace_id)}{p.reset}  {status_colour}{trace.status}{p.reset}  "
        f"{clean(trace.op or '')}  {_trace_duration(trace)}  "
        f"{trace.record_count} records, {trace.error_count} errors"
    )
    out = [head]
    sums = [f"{k}={format_value(v)}" for k, v in _sums(trace).items() if v]
    if sums:
        out.append("  " + "  ".join(sums))
    if trace.start is not None:
        out.append(f"  started {clock(trace.start, date=True)} UTC")
    out.append("")
    items: list[tuple[float, int, Any]] = [(root.start or 0.0, 1, root) for root in trace.roots]
    # Records outside every span (seed-style logs without span ids) still belong on the timeline.
    items += [(model.store.record(seq).ts, 0, seq) for seq in outside_spans(trace, model.store)]
    items.sort(key=lambda item: (item[0], item[1]))
    for _, kind, item in items:
        if kind == 1:
            _render_span(item, model, p, 0, out)
        else:
            out.append(_event_line(model, item, p, ""))
    return out


def _trace_duration(trace: Trace) -> str:
    if trace.duration_ms is not None and trace.status != "running":
        ms = trace.duration_ms
        return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"
    return _duration(trace.start, trace.end)


def _render_span(span: Span, model: LogModel, p: Palette, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    failed = span.status in ("error", "critical")
    colour = p.red if failed else p.green if span.status == "ok" else p.yellow
    out.append(
        f"{pad}{p.bold}▸ {clean(span.op or '(no span)')}{p.reset} "
        f"{colour}[{span.status}]{p.reset} {_duration(span.start, span.end)}"
        + (f"{p.dim}  span {clean(span.span_id)}{p.reset}" if _real_id(span.span_id) else "")
    )
    items: list[tuple[float, int, Any]] = [(model.store.record(seq).ts, 0, seq) for seq in span.events]
    items += [(child.start or 0.0, 1, child) for child in span.children]
    items.sort(key=lambda item: (item[0], item[1]))
    for _, kind, item in items:
        if kind == 1:
            _render_span(item, model, p, depth + 1, out)
        else:
            out.append(_event_line(model, item, p, pad + "  "))
    if span.error is not None:
        message = f": {clean(span.error.message)}" if span.error.message else ""
        out.append(f"{pad}  {p.red}{clean(span.error.type)}{message}{p.reset}")
        for frame in span.error.traceback:
            out.append(f"{pad}    {p.dim}{clean(frame)}{p.reset}")


def _real_id(span_id: str | None) -> bool:
    """False for the store's synthetic ids (``~``, ``~3``) given to spans the log never named."""
    return bool(span_id) and not (span_id or "").startswith("~")


def _event_line(model: LogModel, seq: int, p: Palette, pad: str) -> str:
    record = model.store.record(seq)
    attrs = model.store.attrs(seq)
    fields = [f"{key}={format_value(attrs[key], 60)}" for key in _SHOWN_FIELDS if key in attrs]
    if "duration_ms" in attrs:
        fields.append(f"duration_ms={format_value(attrs['duration_ms'])}")
    extra = ("  " + " ".join(fields)) if fields else ""
    return (
        f"{pad}{p.dim}{clock(record.ts)}{p.reset} {level_badge(record.level, p)} {clean(record.event)}{extra}"
    )
