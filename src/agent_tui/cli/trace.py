"""``agent-tui trace TRACE_ID PATH…``: one trace as a timeline with its span tree, durations and traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
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
from agent_tui.cli.dlq import trace_dead_letters
from agent_tui.cli.flagopts import add_flag_arguments, thresholds_from
from agent_tui.cli.output import Palette, clean, clock, format_value, level_badge, palette_for
from agent_tui.model.traces.analysis import CriticalPath, Flag, critical_path
from agent_tui.model.traces.tracejson import dumps, outside_spans, trace_tree_json

if TYPE_CHECKING:
    from agent_tui.model.session import LogModel
    from agent_tui.model.traces.forest import Span, Trace

__all__ = ["add_arguments", "render", "run"]

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
    add_flag_arguments(parser)
    add_field_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Print the trace; 0 when found, 1 when no record has that id, 2 for a bad path or option.

    Every source is indexed, not just the trace's lines: slow, costly and stuck compare the trace
    with the other traces of its op, and rate-limit storms count an agent's hits across traces.
    """
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
    try:
        model = load_model(args.paths, thresholds=thresholds, overrides=overrides)
    except SourceFailedError:
        return EXIT_ERROR
    trace = model.traces.get(args.trace_id)
    dead = trace_dead_letters(args.trace_id, args.dlq, args.paths)
    if trace is None:
        print(f"agent-tui: no records with trace id {clean(args.trace_id)!r}", file=sys.stderr)
    path = critical_path(trace.roots, model.flags.now()) if trace is not None else None
    flags = [model.flags.of(args.trace_id)[name] for name in model.flags.names(args.trace_id)]
    if args.json:
        doc = (
            {"trace_id": args.trace_id} if trace is None else trace_tree_json(trace, model.store, path, flags)
        )
        if trace is not None or dead.entries:
            sys.stdout.buffer.write(dumps({**doc, "dead_letters": dead.json()}, indent=True) + b"\n")
    else:
        palette = palette_for(sys.stdout)
        shown = ([] if trace is None else render(trace, model, palette, path, flags)) + dead.lines(palette)
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


def render(
    trace: Trace,
    model: LogModel,
    palette: Palette,
    path: CriticalPath | None = None,
    flags: Sequence[Flag] = (),
) -> list[str]:
    """The human timeline: a header and flags, then spans (indented by depth, ◆ on the critical path)."""
    p = palette
    if path is None:
        path = critical_path(trace.roots, model.flags.now())
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
    for flag in flags:
        out.append(f"  {p.yellow}⚑ {flag.name}{p.reset}: {clean(flag.reason)}")
    if path.span_ids:
        out.append(
            f"  {p.bold}◆{p.reset} critical path: {len(path.span_ids)} spans; self = time not in child spans"
        )
    out.append("")
    items: list[tuple[float, int, Any]] = [(root.start or 0.0, 1, root) for root in trace.roots]
    # Records outside every span (seed-style logs without span ids) still belong on the timeline.
    items += [(model.store.record(seq).ts, 0, seq) for seq in outside_spans(trace, model.store)]
    items.sort(key=lambda item: (item[0], item[1]))
    for _, kind, item in items:
        if kind == 1:
            _render_span(item, model, (p, path), 0, out)
        else:
            out.append(_event_line(model, item, p, ""))
    return out


def _trace_duration(trace: Trace) -> str:
    if trace.duration_ms is not None and trace.status != "running":
        ms = trace.duration_ms
        return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"
    return _duration(trace.start, trace.end)


def _render_span(
    span: Span, model: LogModel, style: tuple[Palette, CriticalPath], depth: int, out: list[str]
) -> None:
    p, path = style
    pad = "  " * depth
    failed = span.status in ("error", "critical")
    colour = p.red if failed else p.green if span.status == "ok" else p.yellow
    mark = "◆" if span.span_id in path.members else "▸"
    end = path.ends.get(span.span_id, span.end)
    took = _duration(span.start, end) + (" so far (running)" if span.span_id in path.running else "")
    own = _ms(path.self_ms.get(span.span_id, 0.0))
    out.append(
        f"{pad}{p.bold}{mark} {clean(span.op or '(no span)')}{p.reset} "
        f"{colour}[{span.status}]{p.reset} {took}{p.dim}  self {own}{p.reset}"
        + (f"{p.dim}  span {clean(span.span_id)}{p.reset}" if _real_id(span.span_id) else "")
    )
    items: list[tuple[float, int, Any]] = [(model.store.record(seq).ts, 0, seq) for seq in span.events]
    items += [(child.start or 0.0, 1, child) for child in span.children]
    items.sort(key=lambda item: (item[0], item[1]))
    for _, kind, item in items:
        if kind == 1:
            _render_span(item, model, style, depth + 1, out)
        else:
            out.append(_event_line(model, item, p, pad + "  "))
    if span.error is not None:
        message = f": {clean(span.error.message)}" if span.error.message else ""
        out.append(f"{pad}  {p.red}{clean(span.error.type)}{message}{p.reset}")
        for frame in span.error.traceback:
            out.append(f"{pad}    {p.dim}{clean(frame)}{p.reset}")


def _ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


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
