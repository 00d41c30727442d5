"""The fast headless scan behind ``agent-tui query``: prefilter on bytes, parse only the lines that can match.

Strategies, chosen per filter, all giving the lines a full parse of every line would give:

* **anchor** — a substring every matching line holds (``required_substrings``; or an id or error type
  from ``id_substrings`` plus OTLP and journald lines; or an attribute key from ``required_keys`` plus
  nested shapes) is searched in the whole buffer (``bytesearch``: by a rare byte where it has one); only
  lines holding it are looked at. Values and keys are found whatever the spacing around ``:`` and ``,``.
  For ``key > 50`` and the like, lines whose number visibly fails are dropped unread (``numbers``).
* **level** — when the result depends on the level alone (probed with every level; a probe that looks at
  anything else aborts), lines shaped ``{"ts":"…","level":"<name>"`` (compact, or spaced the way
  ``json.dumps`` writes: ``{"ts": "…", "level": "<name>"``; ``levelshape``) are classified from their bytes.
  Other lines, lines with a ``\\u`` escape, and — if a line may hold ``"level"`` twice — the whole buffer
  are parsed.
* **lazy** — attribute and text filters run on the decoded object, no Record built; lines whose evaluation
  needs more than a wire-name ``level``, and envelope shapes, are parsed.
* **general** — every line parsed by ``LineParser.parse_batch`` and matched.

Every strategy counts and keeps records as ``agent_tui.model.parsing.recordlines`` defines them (blank lines
are none, OTLP lines many, Docker pieces joined); the byte shortcuts run only on buffers where no record can
span two lines. The scanner works on one buffer of whole lines; ``agent_tui.cli.query`` maps files,
splits them across processes and writes the original bytes in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import orjson

from agent_tui.model.parsing.formats.mapping import ENVELOPE_KEYS
from agent_tui.model.parsing.parse import LineParser, decode_line
from agent_tui.model.parsing.recordlines import (
    RecordJudge,
    candidates,
    needs_attrs,
    pieces_possible,
    trailing_pieces,
)
from agent_tui.model.query.bytesearch import Finder
from agent_tui.model.query.levelshape import SHAPES, Shape, odd_line_starts, shape_of
from agent_tui.model.query.levelvalues import LevelReader
from agent_tui.model.query.numbers import NumberTest
from agent_tui.model.query.prefilter import (
    NESTED_MARKERS,
    OTLP_MARKER,
    REBUILT_MARKERS,
    REBUILT_NAMES,
    REWRITING_MARKERS,
)
from agent_tui.model.record import Record
from agent_tui.schema import Level

if TYPE_CHECKING:
    from agent_tui.model.query import Filter

__all__ = ["ByteSink", "ScanPlan", "Scanner", "level_set", "needs_exact_numbers"]

_WIRE_LEVELS: Final[dict[str, Level]] = {level.label: level for level in Level}
_NESTED_KEYS: Final = (*ENVELOPE_KEYS, "attributes")
"""Decoded keys of the nested shapes, whose attribute mapping is not the object itself."""
_LAZY_GIVE_UP: Final = 64
_WIDE_NUMBER: Final = re.compile(r"\d{16}")


class ByteSink(Protocol):
    """Where matching lines are written (``sys.stdout.buffer``, a file, a renderer)."""

    def write(self, data: bytes, /) -> object:
        """Take newline-terminated lines."""
        ...


class _AttrsSubject:
    """A Subject for one flat JSON line that has no Record: touching ``record`` raises ``_Probe``."""

    __slots__ = ("attrs", "raw")

    def __init__(self, line: bytes, attrs: dict[str, Any]) -> None:
        self.raw = line
        self.attrs = attrs

    @property
    def record(self) -> Record:
        """Only the level, when a top-level ``level`` holds a wire name (which the parser takes first)."""
        name = self.attrs.get("level")
        level = _WIRE_LEVELS.get(name) if type(name) is str else None
        if level is None:
            raise _Probe("record")
        return _LevelOnlyRecord(level)  # type: ignore[return-value]


class _Probe(BaseException):
    """A probed filter looked past the level (a BaseException, so no ``except Exception`` can hide it)."""


class _LevelOnlyRecord:
    __slots__ = ("level",)

    def __init__(self, level: Level) -> None:
        self.level = level

    def __getattr__(self, name: str) -> Any:
        raise _Probe(name)


class _LevelOnlySubject:
    __slots__ = ("record",)

    def __init__(self, level: Level) -> None:
        self.record = _LevelOnlyRecord(level)

    @property
    def attrs(self) -> Any:
        raise _Probe("attrs")

    @property
    def raw(self) -> Any:
        raise _Probe("raw")


def needs_exact_numbers(filt: Filter) -> bool:
    """The filter holds an integer too wide for a float (16+ digits): attributes must be decoded exactly.

    orjson reads integers beyond 64 bits as rounded floats; against a literal below 2**53 that rounding
    never changes a comparison, against a wider one it does (``amount_wei == 123…890``).
    """
    return _WIDE_NUMBER.search(filt.text) is not None


def level_set(filt: Filter) -> frozenset[Level] | None:
    """The levels a filter accepts when its result depends on the level alone, else None."""
    if filt.needs_attrs or filt.needs_raw or filt.trace_scoped:
        return None
    accepted = set()
    for level in Level:
        try:
            if filt.matches(_LevelOnlySubject(level)):  # type: ignore[arg-type]
                accepted.add(level)
        except _Probe:
            return None
    return frozenset(accepted)


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """What to keep: a compiled filter (None keeps everything) and inclusive epoch-second bounds."""

    filter: Filter | None = None
    since: float | None = None
    until: float | None = None
    count_only: bool = False
    fields: Mapping[str, str] | None = None
    """``--field ROLE=KEY`` overrides: every line is parsed with them (the byte-level level and lazy
    strategies, which read the usual keys, step aside)."""

    @property
    def timed(self) -> bool:
        """True when a time bound applies."""
        return self.since is not None or self.until is not None


class Scanner:
    """Scans byte buffers of whole lines with the strategy the plan allows; one per source and process.

    Counts records, not lines (see ``agent_tui.model.parsing.recordlines``): blank lines are none, an OTLP
    export line is as many as it holds, and a record joined from Docker pieces is one, judged whole. Trailing
    partial pieces of a buffer are held back and scanned with the next buffer, so a joined record's lines
    are printed together.
    """

    def __init__(self, plan: ScanPlan, parser_factory: Callable[[], LineParser] | None = None) -> None:
        self.plan = plan
        # Kept attributes come from orjson, which rounds integers wider than 64 bits (see below).
        keep = needs_attrs(plan.filter) and not (plan.filter is not None and needs_exact_numbers(plan.filter))
        self._parser = (
            LineParser(plan.fields, keep_attrs=keep) if parser_factory is None else parser_factory()
        )
        self._judge = RecordJudge(plan.filter, plan.since, plan.until, self._parser)
        self._carry = b""
        filt = plan.filter
        self._may_match = filt.may_match_line if filt is not None and filt.prefiltered else None
        anchors: tuple[bytes, ...] = ()
        if filt is not None and filt.required_substrings:
            anchors = (max(filt.required_substrings, key=len),)
        elif filt is not None and filt.id_substrings:
            # Lines holding the id or error type, plus the lines that may spell it otherwise.
            anchors = (max(filt.id_substrings, key=len), *REWRITING_MARKERS)
        elif filt is not None and filt.required_keys:
            # Lines naming the key, plus nested shapes; only used where no key is escaped and no line
            # names "stream" (``pieces_possible``), so Docker envelopes need no search of their own.
            # Loguru and OTel console lines name every attribute they have but loguru's own names.
            key = filt.required_keys[0]
            rebuilt = () if key[1:].decode() not in REBUILT_NAMES else REBUILT_MARKERS
            nested = (
                m for m in NESTED_MARKERS if m != b'"stream"' and (m in rebuilt or m not in REBUILT_MARKERS)
            )
            anchors = (key, *nested)
        self._anchors = tuple(map(Finder, anchors))
        custom = bool(plan.fields)
        # ``amount_usdc > 50``: lines naming the key are decided from its number's bytes where they can be.
        self._number = None
        if filt is not None and anchors and not custom and not plan.timed and not needs_exact_numbers(filt):
            number = NumberTest.of(filt.ast)
            self._number = number if number is not None and number.key.startswith(anchors[0]) else None
        self._levels = level_set(filt) if filt is not None and not self._anchors and not custom else None
        self._lazy = (
            not custom
            and filt is not None
            and not plan.timed
            and not filt.trace_scoped
            and (filt.needs_attrs or filt.needs_raw)
            and self._levels is None
        )
        self._level_names = [level.label.encode() for level in self._levels or ()]
        # Judging some of a buffer's lines without parsing them changes untimed lines' inferred times.
        self._level_reader = None if self._levels is None or plan.timed else LevelReader(self._levels)
        # Lines of the accepted levels come out of the pass that finds the odd lines (none rejected: every
        # line would, so then each accepted name is searched for instead).
        accepted = frozenset(self._level_names)
        rejected = frozenset(label.encode() for label in _WIRE_LEVELS) - accepted
        self._wanted = (
            {shape: (accepted, shape.not_rejected(rejected)) for shape in SHAPES} if rejected else {}
        )

    def matches(self, line: bytes) -> bool:
        """True when some record parsed from the line passes the time bounds and the filter."""
        return self._judge.judge([line])[0] > 0

    def matching(self, lines: list[bytes], *, pieces: bool = True) -> tuple[int, list[bytes]]:
        """``(matching records, their lines)`` of whole lines in order (``pieces``: see ``candidates``)."""
        picked = [lines[i] for i in candidates(lines, self._may_match, pieces=pieces)]
        if self._lazy:
            return self._matching_lazily(picked, pieces=pieces)
        count, keep = self._judge.judge(picked, pieces=pieces)
        return count, [picked[i] for i in keep]

    def _matching_lazily(self, lines: list[bytes], *, pieces: bool) -> tuple[int, list[bytes]]:
        """Match on the decoded object and raw bytes alone, never building a Record.

        For a flat JSON object the attributes are the object itself (``parse.attrs_of``); objects naming
        an envelope key (OTLP, Docker, loguru, journald, OTel console), lines orjson rejects, and lines
        whose evaluation reaches for the record go through the full parse instead.
        """
        filt = self.plan.filter
        assert filt is not None
        loads: Callable[[bytes], object] = orjson.loads
        decode_error: type[Exception] = orjson.JSONDecodeError
        if needs_exact_numbers(filt):
            loads, decode_error = decode_line, ValueError
        verdicts: list[bool | None] = []
        deferred: list[bytes] = []
        for line in lines:
            if self._lazy:
                try:
                    obj = loads(line)
                except decode_error:
                    obj = None
                if type(obj) is dict and not any(key in obj for key in _NESTED_KEYS):
                    try:
                        verdicts.append(filt.matches(_AttrsSubject(line, obj)))
                        continue
                    except _Probe:
                        # A filter that needs the record on most lines is cheaper parsed up front.
                        if len(deferred) > _LAZY_GIVE_UP and len(deferred) * 2 > len(verdicts):
                            self._lazy = False
            verdicts.append(None)
            deferred.append(line)
        count = sum(1 for verdict in verdicts if verdict)
        passed: set[int] = set()
        if deferred:
            found, keep = self._judge.judge(deferred, pieces=pieces)
            count += found
            passed = {id(deferred[i]) for i in keep}
        kept = [
            line
            for line, verdict in zip(lines, verdicts, strict=True)
            if verdict or (verdict is None and id(line) in passed)
        ]
        return count, kept

    def scan(self, data: bytes) -> tuple[int, list[bytes]]:
        """``(matching records, their lines)`` of ``data`` (whole lines, the last maybe unterminated)."""
        if self._carry:
            data, self._carry = self._carry + data, b""
        pieces = pieces_possible(data)
        # Without a possible piece anywhere there is none at the end: one look at the buffer, not two.
        cut = trailing_pieces(data) if pieces else len(data)
        if cut < len(data):
            data, self._carry = data[:cut], data[cut:]
            pieces = pieces_possible(data)
        filt = self.plan.filter
        if filt is None and not self.plan.timed and not pieces and OTLP_MARKER not in data:
            found = [line for line in _split(data) if line.strip()]
            count = len(found)
        elif self._anchors and not pieces:
            count, found = self._scan_anchors(data)
        elif self._levels is not None and not pieces:
            count, found = self._scan_levels(data)
        else:
            count, found = self.matching(_split(data), pieces=pieces)
        return count, ([] if self.plan.count_only else found)

    def _scan_anchors(self, data: bytes) -> tuple[int, list[bytes]]:
        candidates: dict[int, bytes] = {}
        find, rfind = data.find, data.rfind
        # Only the first anchor is the key; a line the number rejects but a nested marker names is judged.
        number = self._number
        for anchor in self._anchors:
            search, pos = anchor.searcher(data), 0
            if number is not None:
                number.undecided(data, search, candidates)
                number = None
                continue
            while True:
                hit = search(pos)
                if hit < 0:
                    break
                start = rfind(b"\n", 0, hit) + 1
                end = find(b"\n", hit)
                if end < 0:
                    end = len(data)
                pos = end + 1
                candidates[start] = data[start:end]
        return self.matching([candidates[start] for start in sorted(candidates)], pieces=False)

    def _scan_levels(self, data: bytes) -> tuple[int, list[bytes]]:
        shape = shape_of(data)
        if shape is None:
            return self._scan_level_values(data)
        wanted = self._wanted.get(shape)
        classified = odd_line_starts(data, shape, wanted)
        if classified is None:
            return self.matching(_split(data), pieces=False)
        odd, found = classified
        keep: dict[int, bytes] = {}
        odd_lines = {}
        for start in odd:
            end = data.find(b"\n", start)
            line = data[start : end if end >= 0 else len(data)]
            if line:
                odd_lines[start] = line
        ordered = sorted(odd_lines)
        count, matched = self.matching([odd_lines[start] for start in ordered], pieces=False)
        passed = {id(line) for line in matched}
        keep.update((start, odd_lines[start]) for start in ordered if id(odd_lines[start]) in passed)
        simple = len(keep)
        if wanted is None:
            for name in self._level_names:
                self._collect_level(data, name, shape, odd, keep)
        else:
            for start in found:
                end = data.find(b"\n", start)
                line = data[start : end if end >= 0 else len(data)]
                if not self.plan.timed or self.matches(line):
                    keep[start] = line
        return count + len(keep) - simple, [keep[start] for start in sorted(keep)]

    def _scan_level_values(self, data: bytes) -> tuple[int, list[bytes]]:
        """Other writers' lines: levels read from the level keys alone (``LevelReader``), odd lines parsed."""
        lines = _split(data)
        if self._level_reader is None:
            return self.matching(lines, pieces=False)
        wanted, odd = self._level_reader.split(lines)
        count, matched = self.matching([lines[i] for i in odd], pieces=False)
        passed = {id(line) for line in matched}
        keep = sorted([*wanted, *(i for i in odd if id(lines[i]) in passed)])
        return count + len(wanted), [lines[i] for i in keep]

    def _collect_level(
        self, data: bytes, name: bytes, shape: Shape, odd: set[int], keep: dict[int, bytes]
    ) -> None:
        find, rfind, match = data.find, data.rfind, shape.simple.match
        needle = shape.separator + name + b'"'
        timed = self.plan.timed
        pos = 0
        while True:
            hit = find(needle, pos)
            if hit < 0:
                return
            start = rfind(b"\n", 0, hit) + 1
            end = find(b"\n", hit)
            if end < 0:
                end = len(data)
            pos = end + 1
            if start in odd:
                continue
            simple = match(data, start)
            if simple is not None and simple.group(1) == name:
                line = data[start:end]
                if not timed or self.matches(line):
                    keep[start] = line


def _split(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines
