"""A live batch's parse as it travels between processes: carried parser state, side values, columns."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from agent_tui.model.parsing import projection
from agent_tui.model.parsing.columns import (
    Appended,
    ByRecord,
    Packed,
    SpanValues,
    encode_span_ids,
    from_columns,
)
from agent_tui.model.parsing.parse import LineParser, attrs_of
from agent_tui.model.parsing.projection import PartialAttrs
from agent_tui.model.traces.analysis.signals import (
    RETRY_SPEC,
    SIGNAL_READS,
    Signal,
    batch_signals,
    retry_keyed,
)
from agent_tui.model.traces.sums import (
    SUM_NESTED,
    SUM_READS,
    SUM_SPEC,
    SumValues,
    is_summed,
    sum_candidates,
    sum_values,
)

__all__ = [
    "SIDE_KEYS",
    "LiveParsed",
    "ParserState",
    "SideValues",
    "parse_shipped",
    "parser_state",
    "resume_parser",
    "side_parser",
    "slimmed",
    "unship",
]

ParserState = dict[str, Any]
"""What a source's parser carries from one batch to the next (its time, learned keys, partial lines)."""

_CACHES: Final = frozenset(
    {"_projection", "_plans", "_overrides", "_keep_attrs", "_now", "_project", "side_keys"}
)
"""Parser attributes that are not carried: caches (results are the same without them; the projection's
generated types cannot be pickled) and the construction arguments both sides share."""
_EVENT_CACHE: Final = 65536
"""Most event names whose signal kinds are remembered."""
_SIDE_SPEC: Final = (*SUM_SPEC, *RETRY_SPEC)
"""What ``sum_values`` and ``retry_keyed`` read, for ``_rowscan.scan_side``."""
SIDE_KEYS: Final = tuple(
    sorted({*SUM_READS, *SUM_NESTED, *RETRY_SPEC[0], *RETRY_SPEC[1], *projection.REFRAMING})
)
"""Keys without which a line has no sums and no retry keys (``LineParser.side_keys``): the summed ones,
retry counters and statuses, and the keys that make ``attrs_of`` reshape a line. The other keys
``SideValues`` reads (the agent) only count beside one of these."""


def side_parser(overrides: Mapping[str, str] | None) -> LineParser:
    """A parser that keeps no mappings and marks the lines holding one of ``SIDE_KEYS``: what
    ``SideValues`` reads after it (only on those lines)."""
    parser = LineParser(overrides)
    parser.side_keys = SIDE_KEYS
    return parser


def parser_state(parser: object) -> ParserState:
    """The state a parser carries between batches, to be continued by another parser of the same source.

    Everything but the caches is carried, so state a parser gains later travels too.
    """
    return {k: v for k, v in vars(parser).items() if k not in _CACHES}


def resume_parser(parser: object, state: ParserState) -> None:
    """Continue ``parser`` from ``state`` (taken by ``parser_state`` from a parser with the same options)."""
    vars(parser).update(state)


class SideValues:
    """Sums and signals of a batch worked out from the few keys they read, decoded once for both.

    The parser keeps no mappings, so without this sums and signals would fall back to byte scans and a
    whole decode per candidate line; one projected decode of every line is cheaper and exact.
    """

    def __init__(self, *, analysis: bool = True) -> None:
        self._side = PartialAttrs(sorted({*SUM_READS, *SIGNAL_READS}), SUM_NESTED, attrs_of)
        self._events: dict[str, tuple[bool, bool]] = {}
        self._analysis = analysis

    def __call__(self, appended: Appended) -> Appended:
        """``appended`` with ``shipped_sums`` and ``shipped_signals`` filled in (it keeps no mappings)."""
        side = self._side
        side.new_batch()
        if len(self._events) > _EVENT_CACHE:
            self._events.clear()  # raw text lines are events too: keep the cache bounded
        if not appended.one_per_line:
            sums = {k: sum_values(attrs) for k, attrs in sum_candidates(appended, side)}
            return self._signalled(appended, appended, sums, None)
        lines = appended.lines
        if True in appended.raws:
            # A raw line that is no JSON object has no attributes: skip its decode attempts (raw
            # envelope lines, Docker's or journald's with plain text inside, still have some).
            raws = appended.raws
            lines = [
                b"{}" if raw and not line.lstrip().startswith(b"{") else line
                for line, raw in zip(lines, raws, strict=True)
            ]
        if projection.scan_side is None:
            read = replace(appended, attrs=side.of_lines(lines))
            sums = {k: sum_values(attrs) for k, attrs in sum_candidates(read, side)}
            return self._signalled(appended, read, sums, None)
        only = appended.side_lines
        if only is None:
            sums, keyed = self._scanned(lines, appended.trace_ids)
        else:
            # Lines without a key sums and signals read (the parser noted them) have neither.
            pick = only.__getitem__
            found, found_keyed = self._scanned(
                list(map(lines.__getitem__, only)), list(map(appended.trace_ids.__getitem__, only))
            )
            sums = {pick(k): v for k, v in found.items()}
            keyed = {pick(k): v for k, v in found_keyed.items()}
        read = appended if lines is appended.lines else replace(appended, lines=lines)
        return self._signalled(appended, read, sums, keyed)

    def _scanned(
        self, lines: Sequence[bytes], tids: Sequence[str | None]
    ) -> tuple[dict[int, SumValues], dict[int, Mapping[str, Any]]]:
        """Sums, and the mappings of records ``retry_keyed`` holds for, by the compiled scan: each line
        read once for both, and only those records given a mapping (1.1 -> 0.5 us a line)."""
        side = self._side
        sums: dict[int, SumValues] = {}
        keyed: dict[int, Mapping[str, Any]] = {}
        start = 0
        while (start := side.scan_side(lines, start, _SIDE_SPEC, tids, sums=sums, keyed=keyed)) < len(lines):
            attrs = side(lines[start])  # a line the scan leaves: the Python path reads it
            if tids[start] is not None and is_summed(attrs):
                sums[start] = sum_values(attrs)
            if retry_keyed(attrs):
                keyed[start] = attrs
            start += 1
        return sums, keyed

    def _signalled(
        self,
        appended: Appended,
        read: Appended,
        sums: dict[int, SumValues],
        keyed: dict[int, Mapping[str, Any]] | None,
    ) -> Appended:
        signals: dict[int, Signal] | None = None
        if self._analysis:
            signals = batch_signals(read, self._side, self._events, keyed)
        return replace(appended, shipped_sums=sums, shipped_signals=signals)


@dataclass(frozen=True, slots=True)
class LiveParsed:
    """A batch the worker parsed: its columns (None when no line made a record), sums, signals, and
    the source's parser state after it."""

    columns: Appended | None
    """Numbered from 0, without lines (``Store.append_shipped`` places them)."""
    sums: ByRecord[tuple[float, float, float, int]] | None
    """None when the worker left sums and signals to the app."""
    signals: ByRecord[Any] | None
    state: ParserState


def slimmed(a: Appended, same: Callable[[Any, Any], Any]) -> Appended:
    """``a`` as it travels between processes: no lines or mappings, times an array, levels bytes, each
    repeated string one object (``same``: pickle then sends repeats as short memo references), and span ids
    as their 64-bit values where all are canonical."""
    spans, parents = encode_span_ids(a.span_ids), encode_span_ids(a.parent_ids)
    return replace(
        a,
        attrs=(),
        lines=(),
        ts=array("d", a.ts),
        levels=a.level_bytes,
        events=list(map(same, a.events, a.events)),
        ops=list(map(same, a.ops, a.ops)),
        trace_ids=list(map(same, a.trace_ids, a.trace_ids)),
        span_ids=a.span_ids if spans is None else SpanValues(spans),
        parent_ids=a.parent_ids if parents is None else SpanValues(parents),
        line_index=range(a.count) if a.one_per_line else a.line_index,
        shipped_sums=_packed_sums(a.shipped_sums),
        shipped_signals=_packed_signals(a.shipped_signals, same),
        side_lines=None,  # read by the side reader already
    )


def _packed_sums(sums: ByRecord[SumValues] | None) -> ByRecord[SumValues] | None:
    return Packed(sums, 4) if isinstance(sums, dict) else sums


def _packed_signals(signals: ByRecord[Any] | None, same: Callable[[Any, Any], Any]) -> ByRecord[Any] | None:
    # retry keys, call keys (event names) and agents repeat: one object each
    return Packed(signals, 6, same, (0, 4, 5)) if isinstance(signals, dict) else signals


def parse_shipped(
    parser: LineParser, side: SideValues | None, lines: list[bytes], seen: dict[Any, Any]
) -> tuple[Any, ...]:
    """Parse one batch into plain values to pickle (no line bytes, repeated strings sent once); with
    ``side``, its sums and signals too (else None: the app works them out)."""
    columns = parser.parse_columns(lines)
    if not len(columns):
        return (None, None, None, parser_state(parser))
    a = from_columns(0, columns, lines)
    if side is not None:
        a = side(a)
    slim = slimmed(a, seen.setdefault)
    # What the app would work out again is shipped as worked out here: sortedness, one record per line
    # (then no line index), and the flag lists only when a flag is set (lists of 2 048 Falses otherwise).
    shipped = (
        None if a.one_per_line else columns.index,
        slim.ts,
        a.ts_sorted,
        columns.ts_inferred if True in columns.ts_inferred else None,
        slim.levels,
        slim.events,
        slim.trace_ids,
        slim.span_ids,
        slim.parent_ids,
        slim.ops,
        columns.error,
        columns.raw if True in columns.raw else None,
    )
    if len(seen) > 100_000:
        seen.clear()
    return (shipped, slim.shipped_sums, slim.shipped_signals, parser_state(parser))


def unship(shipped: tuple[Any, ...]) -> Appended:
    """The batch's columns again from what ``parse_shipped`` shipped."""
    index, ts, ts_sorted, inferred, levels, events, traces, spans, parents, ops, errors, raws = shipped
    n = len(ts)
    # Times stay an array and levels bytes: the store appends both as they are.
    return Appended(
        first_seq=0,
        ts=ts,
        levels=levels,
        events=events,
        trace_ids=traces,
        span_ids=spans,
        parent_ids=parents,
        ops=ops,
        errors=errors,
        raws=[False] * n if raws is None else raws,
        attrs=[],
        line_index=range(n) if index is None else index,
        lines=(),
        new_errors=[],
        new_criticals=[],
        level_bytes=levels,
        inferred=[False] * n if inferred is None else inferred,
        one_per_line=index is None,
        ts_sorted=ts_sorted,
    )
