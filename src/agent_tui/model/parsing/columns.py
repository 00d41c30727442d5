"""Per-batch columns handed from parsing to the store, traces and stats, and their compact encodings."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import eq, is_not
from typing import Any, Generic, Protocol, TypeVar, overload

from agent_tui.model.parsing.native import compiled
from agent_tui.model.record import ErrorInfo
from agent_tui.schema import Level

__all__ = [
    "FLAG_HAS_ERROR",
    "FLAG_INFERRED",
    "FLAG_RAW",
    "FLAG_REPARSE",
    "NAME_NONE",
    "NO_NAME",
    "Appended",
    "AttrsOf",
    "ByRecord",
    "ColumnsLike",
    "Interner",
    "Packed",
    "ParsedLike",
    "Reparse",
    "SpanValues",
    "batch_flags",
    "columns_parser",
    "empty_appended",
    "encode_span_ids",
    "from_columns",
    "indices_at_least",
    "newest_time",
    "span_text",
    "transpose",
]

FLAG_RAW = 1
FLAG_INFERRED = 2
FLAG_HAS_ERROR = 4
FLAG_REPARSE = 8
"""Some field is not in the columns (raw text, a capped name, an error): re-parse the line for it."""


intern_all: Callable[[dict[Any, int], Sequence[Any]], list[int]] | None = compiled("intern_all")
"""``_rowscan.intern_all``: ``Interner`` lookups of a whole column (``__missing__`` in C), None where not
built. A million trace ids: 137 -> 50 ms (74 k of them new, each a Python ``__missing__`` call)."""

NAME_NONE = 0xFFFF
"""Name column value for None (names are stored as uint16)."""
NO_NAME = 0xFFFE
"""Name column value when the name table is full: the line is re-parsed for it."""
_ZERO_ID = "0" * 16
_HEX = b"0123456789abcdef"


class ParsedLike(Protocol):
    """The fields of ``agent_tui.model.parsing.parse.Parsed`` the store reads."""

    ts: float
    ts_inferred: bool
    level: Level
    event: str
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    op: str | None
    error: ErrorInfo | None
    raw: bool
    attrs: dict[str, Any] | None


Reparse = Callable[[int, bytes], Sequence[ParsedLike]]
"""``(source, line) -> parsed records`` for fields the columns do not keep."""
ReparseMany = Callable[[int, Sequence[bytes]], list[Sequence[ParsedLike]]]
"""``Reparse`` of many lines of one source at once (each line's records as ``Reparse`` gives them)."""
AttrsOf = Callable[[bytes, int], Mapping[str, Any]]
"""``(line, part) -> attributes``; ``part`` picks one record of a line that holds several."""


class Interner(dict[str | None, int]):
    """Maps strings to dense ints (``None`` to ``none``); ``__missing__`` keeps hits on the C fast path.

    Args:
        cap: most strings to hold; beyond it unseen strings map to ``full``.
        none: the value for None.
        full: the value for strings refused because the table is full.
    """

    def __init__(self, cap: int | None = None, none: int = -1, full: int = -2) -> None:
        super().__init__()
        self[None] = none
        self.strings: list[str] = []
        self.cap = cap
        self.none = none
        self.full = full

    def indices(self, keys: Sequence[str | None]) -> list[int]:
        """``[self[k] for k in keys]`` (new keys added in order), in one compiled call where built."""
        many = intern_all
        return list(map(self.__getitem__, keys)) if many is None else many(self, keys)

    def __missing__(self, key: str | None) -> int:
        if key is None:
            return self.none
        if self.cap is not None and len(self.strings) >= self.cap:
            return self.full
        index = len(self.strings)
        self.strings.append(key)
        self[key] = index
        return index


T_co = TypeVar("T_co", covariant=True)
Row = TypeVar("Row", bound=tuple[Any, ...])


class ByRecord(Protocol[T_co]):
    """Values by record index: a dict, or ``Packed`` columns as a worker ships them."""

    def items(self) -> Iterable[tuple[int, T_co]]: ...

    def __len__(self) -> int: ...


class Packed(Generic[Row]):
    """Tuples by record index kept as columns (an array of indices, a list per field): what worker
    processes ship. A dict of tuples pickles and unpickles one tuple per record, and of NamedTuples one
    class call per record (sums and signals were half of unpickling a batch). ``items`` gives plain
    tuples back.

    Args:
        by_record: the tuples by record index.
        width: their length.
        same: maps a string to the one object kept for its value (pickle then sends repeats as memo
            references), for the fields in ``strings``.
        strings: the fields holding strings.
    """

    __slots__ = ("columns", "keys")

    def __init__(
        self,
        by_record: Mapping[int, Row],
        width: int,
        same: Callable[[Any, Any], Any] | None = None,
        strings: tuple[int, ...] = (),
    ) -> None:
        self.keys = array("I", by_record)
        columns: list[list[Any]] = [list(column) for column in zip(*by_record.values(), strict=True)]
        if not columns:
            columns = [[] for _ in range(width)]
        if same is not None:
            for j in strings:
                columns[j] = list(map(same, columns[j], columns[j]))
        self.columns = tuple(columns)

    def items(self) -> Iterator[tuple[int, Row]]:
        """``(record index, tuple)`` pairs, in the order they were packed."""
        return zip(self.keys, zip(*self.columns, strict=True), strict=True)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True, slots=True)
class Appended:
    """The columns of one appended batch, handed to the trace forest and the stats."""

    first_seq: int
    ts: Sequence[float]
    levels: Sequence[int]
    events: Sequence[str]
    trace_ids: Sequence[str | None]
    span_ids: Sequence[str | None]
    parent_ids: Sequence[str | None]
    ops: Sequence[str | None]
    errors: Sequence[ErrorInfo | None]
    raws: Sequence[bool]
    attrs: Sequence[Mapping[str, Any] | None]
    """Decoded attribute mappings when the parser kept them (else Nones, or empty)."""
    line_index: Sequence[int]
    lines: Sequence[bytes]
    new_errors: list[int]
    new_criticals: list[int]
    level_bytes: bytes = b""
    """``levels`` as bytes, for C-level counting (``level_bytes.count(Level.ERROR)``)."""
    inferred: Sequence[bool] = ()
    one_per_line: bool = True
    """Record ``k`` came from line ``k`` (no multi-record or joined lines in the batch)."""
    ts_sorted: bool = True
    """The batch's times never decrease."""
    shipped_sums: ByRecord[tuple[float, float, float, int]] | None = None
    """Summed values by record index, worked out by a worker process (which ships no lines)."""
    shipped_signals: ByRecord[Any] | None = None
    """Retry, rate-limit and call signals by record index (``analysis.signals``), from a worker process."""
    side_lines: Sequence[int] | None = None
    """The lines that may hold a key sums and signals read, as the parser found them (None: any may)."""

    @property
    def count(self) -> int:
        """Number of records appended."""
        return len(self.ts)


def transpose(first: int, pairs: Sequence[tuple[int, ParsedLike]], lines: Sequence[bytes]) -> Appended:
    """Turn ``(line index, parsed)`` pairs into per-field lists."""
    idxs = [pair[0] for pair in pairs]
    parsed = [pair[1] for pair in pairs]
    # One comprehension per field is the fastest transpose in CPython (zip(*...) is 4x slower).
    ts = [p.ts for p in parsed]
    levels = [p.level for p in parsed]
    n = len(ts)
    return Appended(
        first_seq=first,
        ts=ts,
        levels=levels,
        events=[p.event for p in parsed],
        trace_ids=[p.trace_id for p in parsed],
        span_ids=[p.span_id for p in parsed],
        parent_ids=[p.parent_span_id for p in parsed],
        ops=[p.op for p in parsed],
        errors=[p.error for p in parsed],
        raws=[p.raw for p in parsed],
        attrs=[p.attrs for p in parsed],
        line_index=idxs,
        lines=lines,
        new_errors=[],
        new_criticals=[],
        level_bytes=bytes(levels),
        inferred=[p.ts_inferred for p in parsed],
        one_per_line=n == len(lines) and idxs == list(range(n)),
        ts_sorted=n < 2 or sorted(ts) == ts,
    )


class ColumnsLike(Protocol):
    """A parser's batch as parallel lists (``agent_tui.model.parsing.parse.LineParser.parse_columns``)."""

    index: list[int]
    ts: list[float]
    ts_inferred: list[bool]
    level: list[Level]
    event: list[str]
    trace_id: list[str | None]
    span_id: list[str | None]
    parent_span_id: list[str | None]
    op: list[str | None]
    error: list[ErrorInfo | None]
    raw: list[bool]
    attrs: list[Any]
    side_lines: list[int] | None

    def __len__(self) -> int: ...


def columns_parser(parser: object) -> Callable[[Sequence[bytes]], ColumnsLike] | None:
    """The parser's ``parse_columns`` method when it has one (the fastest path), else None."""
    method: Callable[[Sequence[bytes]], ColumnsLike] | None = getattr(parser, "parse_columns", None)
    return method


def from_columns(first: int, columns: ColumnsLike, lines: Sequence[bytes]) -> Appended:
    """Wrap a parser's column batch without copying its lists."""
    idxs, ts = columns.index, columns.ts
    n = len(ts)
    return Appended(
        first_seq=first,
        ts=ts,
        levels=columns.level,
        events=columns.event,
        trace_ids=columns.trace_id,
        span_ids=columns.span_id,
        parent_ids=columns.parent_span_id,
        ops=columns.op,
        errors=columns.error,
        raws=columns.raw,
        attrs=columns.attrs,
        line_index=idxs,
        lines=lines,
        new_errors=[],
        new_criticals=[],
        level_bytes=bytes(columns.level),
        inferred=columns.ts_inferred,
        # Equal lengths and last index are not enough: a blank line then a two-record OTLP line match them.
        one_per_line=n == len(lines) and idxs == list(range(n)),
        ts_sorted=n < 2 or sorted(ts) == ts,
        side_lines=columns.side_lines,
    )


def newest_time(ts: Sequence[float], ts_sorted: bool) -> float:
    """The latest of a batch's (finite) times: the last when they never decrease, else the largest.

    The store's order, the stats and the flags each want it per batch; ``max`` over a batch's times was
    5 % of the fold, and nearly every batch is sorted.
    """
    return ts[-1] if ts_sorted else max(ts)


def empty_appended(first: int, lines: Sequence[bytes]) -> Appended:
    """The columns of a batch that produced no record."""
    return Appended(first, (), (), (), (), (), (), (), (), (), (), (), lines, [], [])


class SpanValues(Sequence[str | None]):
    """Span ids already encoded as 64-bit values, read back as text (what worker processes ship)."""

    __slots__ = ("values",)

    def __init__(self, values: array[int]) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> str | None: ...
    @overload
    def __getitem__(self, index: slice) -> list[str | None]: ...
    def __getitem__(self, index: int | slice) -> str | list[str | None] | None:
        if isinstance(index, slice):
            return [span_text(v) for v in self.values[index]]
        return span_text(self.values[index])


def encode_span_ids(ids: Sequence[str | None]) -> array[int] | None:
    """The 64-bit values of canonical span ids (16 lowercase hex digits; None → 0), or None if any is not.

    Span ids are the most numerous distinct strings in agent logs; keeping their value instead of the
    string saves the string and its table entry (about 120 bytes per span). Every step is one C call
    over the whole batch.
    """
    if isinstance(ids, SpanValues):
        return ids.values
    filled = [s or _ZERO_ID for s in ids]
    n = len(filled)
    joined = "".join(filled)
    # Total length 16 n and a separator at every 17th place of the spaced join: each id is 16 long.
    if len(joined) != 16 * n or "|".join(filled)[16::17] != "|" * (n - 1):
        return None
    try:
        if joined.encode("ascii").translate(None, _HEX):
            return None
    except UnicodeEncodeError:
        return None
    values = array("Q")
    values.frombytes(bytes.fromhex(joined))
    if sys.byteorder == "little":
        values.byteswap()
    return values


def span_text(value: int) -> str | None:
    """The id text of a 64-bit span value (None for 0)."""
    return f"{value:016x}" if value else None


def batch_flags(
    raws: Sequence[bool],
    inferred: Sequence[bool],
    errors: Sequence[ErrorInfo | None],
    op_ids: Sequence[int],
    event_ids: Sequence[int],
) -> bytearray:
    """Per-record flag bytes for a batch that has raw lines, inferred times, errors or capped names."""
    n = len(raws)
    out = bytearray(n)
    marks = (
        (compress(range(n), raws), FLAG_RAW | FLAG_REPARSE),
        (compress(range(n), inferred), FLAG_INFERRED),
        (compress(range(n), map(is_not, errors, repeat(None))), FLAG_HAS_ERROR | FLAG_REPARSE),
        (compress(range(n), map(eq, op_ids, repeat(NO_NAME))), FLAG_REPARSE),
        (compress(range(n), map(eq, event_ids, repeat(NO_NAME))), FLAG_REPARSE),
    )
    for found, flag in marks:
        for k in found:
            out[k] |= flag
    return out


def indices_at_least(levels: bytes, level: int) -> list[int]:
    """Indices of the bytes of ``levels`` that are ``>= level`` (C-level search)."""
    marked = levels.translate(_AT_LEAST[level])
    out: list[int] = []
    k = marked.find(1)
    while k >= 0:
        out.append(k)
        k = marked.find(1, k + 1)
    return out


_AT_LEAST = [bytes(1 if v >= floor else 0 for v in range(256)) for floor in range(256)]
