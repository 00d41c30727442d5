"""Filter conditions on normalised fields evaluated over the store's columns, without building Records.

A leaf such as ``level >= error``, ``trace_id == "x"`` or ``event =~ "bet"`` reads one column. Its
compiled predicate is run once per *distinct* column value in the range (256 levels, each interned
trace id or name present) on a one-field stand-in record, which gives a lookup table; the table is
then mapped over the column slice at C speed. ``ts`` comparisons map a bound float comparison over
the time column. ``and`` / ``or`` / ``not`` combine the resulting 0/1 byte strings as big integers.
Rows whose value is not in the columns (raw lines, names past the name table's cap) come back as
*unsure*: the caller evaluates the real predicate on those few rows, so results are identical to the
per-record path.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from agent_tui.model.parsing.columns import NAME_NONE, NO_NAME
from agent_tui.model.query.checks import parse_time
from agent_tui.model.query.compiler import FlagsOf, Predicate, compile_node
from agent_tui.model.query.flagfield import FLAG_FIELD
from agent_tui.model.query.nodes import And, Compare, Duration, Exists, Node, Not, Num, Or, Str, Truthy
from agent_tui.schema import Level

if TYPE_CHECKING:
    from agent_tui.model.store.index import Store

__all__ = ["ColumnBits", "column_bits", "split_and"]

_FLIP: Final = bytes([1, 0]) + bytes(254)
_IS_ONE: Final = bytes([0, 1]) + bytes(254)
_IS_TWO: Final = bytes([0, 0, 1]) + bytes(253)
_EFFECTIVE_LEVEL: Final[list[Level]] = [Level.INFO] * 256
for _level in Level:
    _EFFECTIVE_LEVEL[_level] = _level
_STRING_FIELDS: Final[dict[tuple[str, ...], str]] = {
    ("event",): "event",
    ("msg",): "event",
    ("message",): "event",
    ("trace_id",): "trace_id",
    ("op",): "op",
}
_TS_METHODS: Final[dict[str, str]] = {
    # ``ts OP m`` is ``m.<reflected>(ts)``, so the column is mapped through one bound C method.
    "==": "__eq__",
    "!=": "__ne__",
    "<": "__gt__",
    "<=": "__ge__",
    ">": "__lt__",
    ">=": "__le__",
}


@dataclass(slots=True)
class ColumnBits:
    """One 0/1 byte per row of a seq range: ``bits`` where sure, ``unsure`` rows (1) need the predicate."""

    bits: bytes
    unsure: bytes | None


class _OneRecord:
    """A stand-in record holding a single field's value (the leaf predicate reads only that field)."""

    __slots__ = ("event", "level", "op", "trace_id", "ts")

    def __init__(self, name: str, value: Any) -> None:
        self.level: Any = Level.INFO
        self.ts: Any = 0.0
        self.event: Any = ""
        self.trace_id: Any = None
        self.op: Any = None
        setattr(self, name, value)


class _OneSubject:
    __slots__ = ("record",)

    def __init__(self, name: str, value: Any) -> None:
        self.record = _OneRecord(name, value)


def _leaf_column(node: Node) -> str | None:
    """The column a leaf reads (``level``, ``ts``, ``event``, ``trace_id``, ``op``), or None."""
    if isinstance(node, Compare | Exists | Truthy) and node.field.path == FLAG_FIELD:
        return "trace_id"  # a trace's flags: one test per distinct trace id
    if isinstance(node, Compare):
        path = node.field.path
        if path == ("level",):
            return "level"
        if path == ("ts",):
            return "ts" if _ts_moment(node, lambda: 0.0) is not None else None
        return _STRING_FIELDS.get(path)
    if isinstance(node, Exists | Truthy):
        return _STRING_FIELDS.get(node.field.path)
    return None


def _ts_moment(node: Compare, now: Callable[[], float]) -> float | None:
    value = node.value
    if node.op not in _TS_METHODS:
        return None
    if isinstance(value, Str):
        return parse_time(value.value)
    if isinstance(value, Num):
        return float(value.value)
    if isinstance(value, Duration):
        return now() + value.seconds
    return None


def supported(node: Node) -> bool:
    """Whether ``node`` can be evaluated entirely from columns."""
    if isinstance(node, And | Or):
        return all(supported(item) for item in node.items)
    if isinstance(node, Not):
        return supported(node.operand)
    return _leaf_column(node) is not None


def split_and(node: Node) -> tuple[list[Node], Node | None]:
    """Split a top-level ``and`` into (column conditions, the rest as one node, None when nothing is left)."""
    if not isinstance(node, And):
        return ([node], None) if supported(node) else ([], node)
    cols: list[Node] = [item for item in node.items if supported(item)]
    rest = tuple(item for item in node.items if not supported(item))
    return cols, (None if not rest else rest[0] if len(rest) == 1 else And(rest))


def column_bits(
    store: Store,
    nodes: Sequence[Node],
    lo: int,
    hi: int,
    now: Callable[[], float],
    *,
    flags: FlagsOf | None = None,
) -> ColumnBits:
    """The conjunction of column-evaluable ``nodes`` over seqs ``lo..hi-1`` (all must be ``supported``)."""
    n = hi - lo
    acc: ColumnBits | None = None
    for node in nodes:
        part = _eval(store, node, lo, hi, (now, flags))
        acc = part if acc is None else _combine(acc, part, n, conj=True)
    return acc if acc is not None else ColumnBits(b"\x01" * n, None)


def _as_int(data: bytes) -> int:
    return int.from_bytes(data, "little")


def _bytes(value: int, n: int) -> bytes:
    return value.to_bytes(n, "little")


def _combine(a: ColumnBits, b: ColumnBits, n: int, *, conj: bool) -> ColumnBits:
    x, y = _as_int(a.bits), _as_int(b.bits)
    bits = _bytes(x & y if conj else x | y, n)
    if a.unsure is None:
        unsure = b.unsure
    elif b.unsure is None:
        unsure = a.unsure
    else:
        unsure = _bytes(_as_int(a.unsure) | _as_int(b.unsure), n)
    return ColumnBits(bits, unsure)


def _eval(
    store: Store, node: Node, lo: int, hi: int, context: tuple[Callable[[], float], FlagsOf | None]
) -> ColumnBits:
    n = hi - lo
    now, flags = context
    if isinstance(node, And | Or):
        acc = _eval(store, node.items[0], lo, hi, context)
        for item in node.items[1:]:
            acc = _combine(acc, _eval(store, item, lo, hi, context), n, conj=isinstance(node, And))
        return acc
    if isinstance(node, Not):
        inner = _eval(store, node.operand, lo, hi, context)
        return ColumnBits(inner.bits.translate(_FLIP), inner.unsure)
    column = _leaf_column(node)
    assert column is not None
    start, stop = lo - store.columns_base, hi - store.columns_base
    if column == "ts":
        assert isinstance(node, Compare)
        moment = _ts_moment(node, now)
        assert moment is not None
        test = getattr(moment, _TS_METHODS[node.op])
        return ColumnBits(bytes(map(test, store.ts_column[start:stop])), None)
    predicate = compile_node(node, now, flags)
    if column == "level":
        table = bytes(_test(predicate, "level", _EFFECTIVE_LEVEL[v]) for v in range(256))
        return ColumnBits(store.level_column[start:stop].tobytes().translate(table), None)
    if column == "trace_id":
        strings = store.ids.strings
        rows = store.trace_column[start:stop]
        found = {t: _test(predicate, column, strings[t] if t >= 0 else None) for t in set(rows)}
        return ColumnBits(bytes(map(found.__getitem__, rows)), None)
    return _names(store, predicate, column, start, stop)


def _test(predicate: Predicate, column: str, value: Any) -> int:
    return 1 if predicate(_OneSubject(column, value)) else 0  # type: ignore[arg-type]


def _names(store: Store, predicate: Predicate, column: str, start: int, stop: int) -> ColumnBits:
    names = store.names.strings
    col: array[int] = store.event_column if column == "event" else store.op_column
    rows = col[start:stop]
    table: dict[int, int] = {}
    for v in set(rows):
        if v < NO_NAME:
            table[v] = _test(predicate, column, names[v])
        elif v == NAME_NONE and column == "op":
            table[v] = _test(predicate, column, None)
        else:
            table[v] = 2  # a capped name (or a raw line's event) is only in the line itself: unsure
    values = bytes(map(table.__getitem__, rows))
    unsure = values.translate(_IS_TWO) if 2 in values else None
    return ColumnBits(values.translate(_IS_ONE), unsure)
