"""Zero-config mapping of log lines (bytes) to normalised records, by the field alias rules of DESIGN §5.

Each line is decoded with orjson. A JSON object is mapped by aliases: time (``ts``, ``timestamp``,
``time`` …), level (``level``, ``levelname``, ``severity`` …), message (``event``, ``msg`` …), trace and span
ids, span name and error. The first line with a given key set goes through the ordered alias search
(``formats.generic``); when at most one alias per role is present, a *plan* for that key set is kept, and
later lines with the same keys are read with it in one C call, no search (``formats.mapping``).

Nested shapes (loguru, OpenTelemetry console and OTLP/JSON, Docker json-file, ``journalctl -o json``) are
unwrapped first (see ``agent_tui.model.parsing.formats``). Anything that is not a JSON object (plain text,
arrays, numbers, invalid UTF-8, truncated lines) becomes a *raw* record whose ``event`` is the line decoded
with replacement characters; a raw line that starts with an ISO time or carries an upper-case level word
(``ERROR``, ``WARN`` …) takes that time and level, as lnav does for text logs, otherwise INFO.

``attrs`` (what filters and the detail pane see) is the decoded object for flat formats and the flattened
mapping documented in ``agent_tui.model.parsing.formats`` for nested ones; ``{}`` for raw lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from itertools import compress, islice
from operator import not_
from typing import Any

import orjson

from agent_tui.model.parsing.formats.columns import ROW_FIELDS, Columns, Row
from agent_tui.model.parsing.formats.decoding import attrs_of, decode_line
from agent_tui.model.parsing.formats.generic import BOM, ROLES, GenericParser, Parsed
from agent_tui.model.parsing.formats.mapping import (
    ENVELOPE_KEYS,
    MAX_PLANS,
    PAD,
    error_any,
    fractions,
    make_plan,
    norm_id,
    plan_level,
    remember_second,
    seconds,
    tail_fraction,
    text,
    time_of,
)
from agent_tui.model.parsing.native import compiled
from agent_tui.model.parsing.projection import MISSES, Projection, widened

ScanRows = Callable[..., tuple[int, float | None]]


scan_rows: ScanRows | None = compiled("scan_rows")
"""The compiled projected path (``_rowscan.scan_rows``), None where it was not built."""

__all__ = ["ROLES", "ROW_FIELDS", "Columns", "LineParser", "Parsed", "Row", "attrs_of", "decode_line"]


class LineParser(GenericParser):
    """Maps the lines of one source to records; keeps per-source state (see ``GenericParser``)."""

    side_keys: tuple[str, ...] = ()
    """Keys whose lines ``parse_columns`` lists in ``Columns.side_lines`` (the keys sums and signals
    read, ``livebatch.SIDE_KEYS``: the other lines need no look for them); none by default."""

    def fresh(self) -> LineParser:
        """A parser in the starting state, with this one's options, sharing its plans and projection.

        Both depend on key sets only, never on where a line stands in its source, so a line re-read by
        it maps as by a new parser, without finding its key set's plan again (structlog's lines: 19.5
        -> 5.4 us; the store re-reads lines for span ids and errors).
        """
        parser = LineParser(
            self._overrides, keep_attrs=self._keep_attrs, now=self._now, project=self._project
        )
        parser._plans = self._plans
        parser._projection = self._projection
        parser.side_keys = self.side_keys
        return parser

    def learned(self, parser: LineParser) -> None:
        """Keep the projection ``parser`` (one of this parser's ``fresh`` ones) widened to, for later ones.

        Plans are shared already (one dict); the projection is replaced as it widens.
        """
        self._projection = parser._projection

    def parse_each(self, lines: Sequence[bytes]) -> list[list[Parsed]]:
        """Each line's records as a parser in the starting state maps that line alone (``fresh``).

        No line's mapping depends on the lines before it, as when records are re-read one by one; runs
        of lines the source's projection reads go through the compiled scan in one call (the scan is
        stateless but for the last time, which it is given as unknown). Projections learned on the way
        are kept for later ``fresh`` parsers.
        """
        out: list[list[Parsed]] = []
        i, n = 0, len(lines)
        while i < n:
            scanned = _scanned(self._projection)
            if scanned is not None:
                scan, by = scanned
                rows: list[Row] = []
                i, _ = scan(
                    lines, i, rows, by.keys, by.refused, by.needs_ids, seconds, fractions, by.levels, None
                )
                out.extend([Parsed(*row[1:])] for row in rows)
                if i == n:
                    break
            alone = self.fresh()
            out.append(alone.parse(lines[i]))
            if alone._projection is not None:
                self._projection = alone._projection
            i += 1
        return out

    def parse(self, line: bytes) -> list[Parsed]:
        """Map one line: one record; an OTLP export line many; a Docker partial or blank line none."""
        return [p for _, p in self.parse_batch((line,))]

    def parse_batch(self, lines: Sequence[bytes]) -> list[tuple[int, Parsed]]:
        """Map a batch of lines; each result carries the index of its line in ``lines``."""
        return [(row[0], Parsed(*row[1:])) for row in self.parse_rows(lines)]

    def parse_columns(self, lines: Sequence[bytes]) -> Columns:
        """Map a batch of lines to parallel lists (what a columnar store appends; no object per line).

        The compiled scan appends each field to its list, so no row tuple is made and none is taken
        apart again (0.1 us a line); the lines the Python path maps are spread over the lists.
        """
        lists: tuple[list[Any], ...] = tuple([] for _ in ROW_FIELDS)
        columns = Columns(*lists)
        appends = [column.append for column in lists]

        def append(row: Row) -> None:
            for add, value in zip(appends, row, strict=True):
                add(value)

        untimed_start, columns.side_lines = self._parse_into(
            lines, lists, append, [] if self.side_keys else None
        )
        if untimed_start:
            _backdate_leading_columns(columns.ts, columns.ts_inferred)
        return columns

    def parse_rows(self, lines: Sequence[bytes]) -> list[Row]:
        """Map a batch of lines to plain tuples in ``ROW_FIELDS`` order (no object per line)."""
        out: list[Row] = []
        if self._parse_into(lines, out, out.append)[0] and out and out[0][2]:
            _backdate_leading(out)
        return out

    def _parse_into(  # noqa: PLR0912, PLR0915 - one hot loop
        self,
        lines: Sequence[bytes],
        out: list[Row] | tuple[list[Any], ...],
        append: Callable[[Row], object],
        marked: list[int] | None = None,
    ) -> tuple[bool, list[int] | None]:
        """Map a batch of lines into ``out`` (row tuples, or a tuple of lists in ``ROW_FIELDS`` order, the
        compiled scan's two forms), the Python path's rows through ``append``.

        Returns whether the source had no time before the batch (the callers then backdate its leading
        untimed lines, ``_backdate_leading``), and ``marked`` with the index of each line that may hold
        one of ``side_keys`` added: the lines the scan saw one in, and every line the Python path maps.
        None instead when that cannot be told (a side key is a role key here): every line may.

        The hot loop: a line the source's projection accepts is read field by field from its bytes (see
        ``agent_tui.model.parsing.projection``); any other line whose key set was seen before and is
        unambiguous (at most one alias per role, no envelope) is decoded whole and mapped with the keys
        planned for that key set, in one C call, without alias search.
        """
        loads = orjson.loads
        plans = self._plans
        second_of = seconds
        fraction_of = fractions
        last = self._last_ts
        untimed_start = last is None
        keep = self._keep_attrs
        project = self._project
        projection = self._projection
        decode = projection.decode if projection is not None else None
        scanned = _scanned(projection)
        triggers = self.side_keys if marked is not None else ()
        numbered = enumerate(lines)
        for index, line in numbered:
            if scanned is not None:
                # The compiled scan maps what it can from here on; the line it stops at is mapped below.
                scan, by = scanned
                if triggers and not set(triggers).isdisjoint(by.keys):
                    # the scan reads that key as a role and cannot note it
                    marked, triggers = None, ()
                stop, last = scan(
                    lines,
                    index,
                    out,
                    by.keys,
                    by.refused,
                    by.needs_ids,
                    second_of,
                    fraction_of,
                    by.levels,
                    last,
                    triggers,
                    marked,
                )
                if stop > index:
                    if stop == len(lines):
                        break
                    deque(islice(numbered, stop - index - 1), maxlen=0)
                    index, line = next(numbered)  # noqa: PLW2901 - the loop resumes after it
            if marked is not None:
                marked.append(index)
            if decode is not None:
                try:
                    s = decode(line)
                except MISSES:
                    s = None
                if s is not None:
                    value = s.ts
                    level_value = s.level
                    event = s.event
                    trace_id = s.trace_id
                    span_id = s.span_id
                    parent = s.parent_span_id
                    op = s.op
                    levels = projection.levels  # type: ignore[union-attr]
                    k_level = projection.level_key  # type: ignore[union-attr]
                    error = None
                    attrs = None
            if decode is None or s is None:
                obj: Any = None  # plain text stays None: raising (and building) orjson's error costs µs
                if line[:1] in _OBJECT_STARTS:
                    try:  # noqa: SIM105 - a hot loop: contextlib.suppress costs a call per line
                        obj = loads(line)
                    except orjson.JSONDecodeError:
                        pass
                plan = plans.get(tuple(obj)) if type(obj) is dict else None
                if plan is None:
                    self._last_ts = last
                    for p in self._slow(obj, line):
                        row = (
                            index,
                            p.ts,
                            p.ts_inferred,
                            p.level,
                            p.event,
                            p.trace_id,
                            p.span_id,
                            p.parent_span_id,
                        )
                        append((*row, p.op, p.error, p.raw, p.attrs))
                    last = self._last_ts
                    projection = self._projection
                    decode = projection.decode if projection is not None else None
                    scanned = _scanned(projection)
                    continue
                pick, reorder, k_level, levels, has_error, found = plan
                # One C call picks every role's value (None for roles the key set lacks).
                value, level_value, event, trace_id, span_id, parent, op = reorder(pick(obj) + PAD)
                error = error_any(obj) if has_error else None
                attrs = obj if keep else None
                if project and not has_error:
                    projection = self._projection = widened(projection, found)
                    decode = projection.decode if projection is not None else None
                    scanned = _scanned(projection)
            ts = None
            kind = type(value)
            if kind is str:
                # "…T03:21:44.312Z": the whole second and the fraction each come from a cache that only
                # holds valid "YYYY-MM-DD[T ]HH:MM:SS" prefixes and ".ddd"/",ddd" (+ "Z") tails.
                base = second_of.get(value[:19])
                if base is not None:
                    tail = value[19:]
                    fraction = fraction_of.get(tail)
                    if fraction is None:
                        fraction = tail_fraction(tail)
                    if fraction is not None:
                        ts = base + fraction
            elif kind is int and 100_000_000_000 <= value < 100_000_000_000_000:
                ts = value / 1000  # epoch milliseconds (pino, bunyan numbers)
            if ts is None and value is not None:
                ts = time_of(value, _NO_OBJECT)
                if kind is str and ts is not None:
                    remember_second(value)
            if ts is None:
                if last is None:
                    last = self._now()
                ts = last
                inferred = True
            else:
                last = ts
                inferred = False
            try:
                level = levels[level_value]
            except (KeyError, TypeError):
                level = plan_level(levels, k_level, level_value)
            if type(event) is not str:
                event = text(event)
            # ids that start with 1-9/a-z and end in a visible character need no normalising
            if trace_id is not None and not (
                type(trace_id) is str and trace_id and trace_id[0] > "0" and trace_id[-1] > " "
            ):
                trace_id = norm_id(trace_id)
            if span_id is not None and not (
                type(span_id) is str and span_id and span_id[0] > "0" and span_id[-1] > " "
            ):
                span_id = norm_id(span_id)
            if span_id is None:
                parent = None
            elif parent is not None and not (
                type(parent) is str and parent and parent[0] > "0" and parent[-1] > " "
            ):
                parent = norm_id(parent)
            if type(op) is not str:
                op = None
            append((index, ts, inferred, level, event, trace_id, span_id, parent, op, error, False, attrs))
        self._last_ts = last
        return untimed_start, marked

    def _slow(self, obj: object, line: bytes) -> list[Parsed]:
        """Lines the planned path does not take: new key sets, envelopes, overrides, non-objects, bad JSON.

        A blank line (whitespace only, a lone ``\\r`` of a CRLF file too) is no record, as for jq.
        """
        if obj is None:
            start = line.lstrip()[:3]
            if not start:
                return []
            if start[:1] != b"{" and start != BOM:
                # Plain text (or a JSON scalar or array): no decode can make it an object.
                return [self._raw(line)]
            try:
                obj = decode_line(line)
            except ValueError:
                return [self._raw(line)]
        if type(obj) is not dict:
            return [self._raw(line)]
        if not self._overrides:
            plan = make_plan(obj)
            if plan is not None:
                plans = self._plans
                if len(plans) >= MAX_PLANS:
                    plans.clear()
                plans[tuple(obj)] = plan
                if self._project and not plan[4]:
                    self._projection = widened(self._projection, plan[5])
        if ENVELOPE_KEYS.isdisjoint(obj):
            return [self._map(obj, None, None)]
        return self._envelope(obj, line)


def _scanned(projection: Projection | None) -> tuple[ScanRows, Projection] | None:
    """The compiled scan and the projection it reads lines by, or None when lines are read in Python."""
    scan = scan_rows
    return None if scan is None or projection is None else (scan, projection)


_OBJECT_STARTS = frozenset((b"{", b" ", b"\t", b"\r", b"\n", b"\xef"))
"""First bytes of a line that may decode to a JSON object (after whitespace or a BOM)."""
_NO_OBJECT: dict[str, object] = {}
"""``time_of``'s object argument for projected lines (it is only read for mapping-shaped times)."""


def _backdate_leading(rows: list[Row]) -> None:
    """Give lines before a source's first timed line that line's time instead of the wall clock.

    A banner or a stack trace at the top of a file would otherwise sit at "now", stretching the time range
    backwards and emptying the 1m/5m/15m windows of a file read back. They stay marked ``ts_inferred``.
    """
    first = next((row[1] for row in rows if not row[2]), None)
    if first is None:
        return
    for i, row in enumerate(rows):
        if not row[2]:
            break
        rows[i] = (row[0], first, *row[2:])


def _backdate_leading_columns(ts: list[float], inferred: list[bool]) -> None:
    """``_backdate_leading`` for a batch held as columns."""
    if inferred[:1] == [True]:
        first = next(compress(ts, map(not_, inferred)), None)
        if first is not None:
            leading = inferred.index(False)
            ts[:leading] = [first] * leading
