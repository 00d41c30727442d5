"""Projected decoding: read only the index's fields of a JSON line, straight from its bytes (msgspec).

The index needs seven values per line (time, level, message, trace/span/parent ids, op); everything else
stays in the file and is decoded by ``attrs_of`` only when a filter or the detail pane asks. A
``Projection`` is one typed msgspec ``Struct`` per *alias choice* (which key each role is read from, e.g.
``levelname`` for the level): the chosen keys are its fields, unknown keys are skipped without building
them, and every other key that would change how the line maps (another alias of a role, an error key,
``attributes``, an envelope, nested ids, span timing) is a field no JSON value can fill, so a line carrying
one fails to decode and takes the full path instead. A line that decodes is therefore one the per-key-set
plans of ``formats.mapping`` would map from exactly these values.

Values are scalars as orjson gives them: objects, arrays and integers beyond 64 bits (which orjson turns
into floats) fail too, so the full path keeps deciding those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Protocol

import msgspec

from agent_tui.model.parsing.formats.mapping import (
    ENVELOPE_KEYS,
    ERROR_KEYS,
    LEVEL_ALIASES,
    MESSAGE_KEYS,
    NESTED_ID_KEYS,
    OP_KEYS,
    PARENT_KEYS,
    SPAN_KEYS,
    SPAN_LINE_KEYS,
    TIME_KEYS,
    TRACE_KEYS,
    level_tables,
)
from agent_tui.model.parsing.native import compiled
from agent_tui.schema import Level

__all__ = [
    "MISSES",
    "REFRAMING",
    "ROLE_FIELDS",
    "KeyProjector",
    "PartialAttrs",
    "Projected",
    "Projection",
    "projection_for",
    "widened",
]

ROLE_FIELDS: Final = ("ts", "level", "event", "trace_id", "span_id", "parent_span_id", "op")
"""The roles a projection reads, in plan order (``Plan``'s ``found`` tuple)."""
_ROLE_ALIASES: Final = (TIME_KEYS, LEVEL_ALIASES, MESSAGE_KEYS, TRACE_KEYS, SPAN_KEYS, PARENT_KEYS, OP_KEYS)
_DECIDING: Final = frozenset(
    {*(k for aliases in _ROLE_ALIASES for k in aliases), *ERROR_KEYS, "attributes"}
    | ENVELOPE_KEYS
    | SPAN_LINE_KEYS
    | NESTED_ID_KEYS
)
"""Keys whose presence changes how a line maps: only the chosen aliases of a projection may appear."""

Scalar = str | Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)] | float | bool | None
"""A role value orjson decodes the same way (it turns integers beyond 64 bits into floats: refused, as
are unsigned values past int64, which msgspec cannot bound)."""

MISSES: Final = (msgspec.DecodeError, RecursionError)
"""What ``Projection.decode`` raises for a line the full path must map (``ValidationError`` included)."""


class Projected(Protocol):
    """The seven role values of one line (None when absent or null)."""

    ts: Any
    level: Any
    event: Any
    trace_id: Any
    span_id: Any
    parent_span_id: Any
    op: Any


@dataclass(frozen=True, slots=True)
class Projection:
    """How to read lines whose role keys are ``keys``: one alias or None per role, ``ROLE_FIELDS`` order."""

    keys: tuple[str | None, ...]
    decode: Callable[[bytes], Projected]
    """Raises one of ``MISSES`` when the line is not a JSON object this projection can map."""
    level_key: str | None
    levels: dict[object, Level]
    """The level key's value → Level table shared with the plans that read the same key."""
    refused: tuple[str, ...]
    """Keys a line may not hold (every key that would change how it maps, but the chosen ones)."""
    needs_ids: bool
    """Lines without both id keys are refused (``span`` is read as the op only beside them)."""


_PROJECTIONS: dict[tuple[str | None, ...], Projection | None] = {}


def projection_for(keys: Sequence[str | None]) -> Projection | None:
    """The projection reading each role from ``keys`` (a plan's ``found``), or None if it cannot be one.

    No projection is made when no role has a key, or when a nested-id key (``span``) is read without both
    id keys (no plan is made for such key sets either).
    """
    chosen = tuple(keys)
    if chosen in _PROJECTIONS:
        return _PROJECTIONS[chosen]
    made: Projection | None = None
    nested = not NESTED_ID_KEYS.isdisjoint(chosen)
    if any(chosen) and not (nested and (chosen[3] is None or chosen[4] is None)):
        made = _make(chosen)
    if len(_PROJECTIONS) < 1024:
        _PROJECTIONS[chosen] = made
    return made


def widened(current: Projection | None, found: Sequence[str | None]) -> Projection | None:
    """A projection for lines planned with ``found``: ``current`` with ``found``'s keys added when they agree.

    Sources write some roles only on some lines (a span id inside spans, an op on span starts); widening
    keeps one projection for all of them instead of one per key set. When ``found`` names another alias
    for a role ``current`` already reads, the source switched spelling and ``found`` alone is used.
    """
    if current is None:
        return projection_for(found)
    merged = []
    for mine, theirs in zip(current.keys, found, strict=True):
        if mine is not None and theirs is not None and mine != theirs:
            return projection_for(found)
        merged.append(mine if mine is not None else theirs)
    return projection_for(merged)


def _make(chosen: tuple[str | None, ...]) -> Projection:
    # ``span`` is both an op alias and the ECS span object: plans read it as the op only when the trace
    # and span id keys are present, so reading it requires them (an absent one refuses the line).
    required = not NESTED_ID_KEYS.isdisjoint(chosen)
    fields: list[tuple[str, Any, Any]] = []
    absent: dict[str, Any] = {}
    for role, key in zip(ROLE_FIELDS, chosen, strict=True):
        if key is None:
            absent[role] = None  # a class attribute: reads as None, and no JSON key can fill it
        elif required and role in {"trace_id", "span_id"}:
            fields.append((role, Scalar, msgspec.field(name=key)))
        else:
            fields.append((role, Scalar, msgspec.field(default=None, name=key)))
    refused = sorted(_DECIDING.difference(k for k in chosen if k is not None))
    fields.extend(
        (f"refused_{i}", msgspec.UnsetType, msgspec.field(default=msgspec.UNSET, name=key))
        for i, key in enumerate(refused)
    )
    struct = msgspec.defstruct("ProjectedLine", fields, namespace=absent, gc=False, kw_only=True)
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(struct)
    level_key = chosen[1]
    levels = level_tables.setdefault(level_key or "", {})
    return Projection(chosen, decoder.decode, level_key, levels, tuple(refused), required)


class KeyProjector:
    """Decode only ``keys`` of JSON object lines (for filters that read a few top-level attributes).

    ``values(line)`` gives the keys' values in order (``missing`` where absent) without building the rest
    of the object; nested values come back whole. Raises one of ``MISSES`` for lines that are not a JSON
    object msgspec accepts (the caller falls back to ``attrs_of``). Integers wider than 64 bits decode
    exactly here, where orjson gives floats.
    """

    def __init__(self, keys: Sequence[str], missing: object = None) -> None:
        self.keys = tuple(keys)
        fields = [(f"k{i}", Any, msgspec.field(default=missing, name=k)) for i, k in enumerate(self.keys)]
        struct = msgspec.defstruct("ProjectedKeys", fields, gc=False)
        self._decode = msgspec.json.Decoder(struct).decode
        self._astuple = msgspec.structs.astuple

    def values(self, line: bytes) -> tuple[Any, ...]:
        """The values of ``keys`` in ``line``, in order."""
        return self._astuple(self._decode(line))


scan_side: Callable[..., int] | None = compiled("scan_side")
"""``_rowscan.scan_side`` (``PartialAttrs.scan_side``), None where it was not built."""

REFRAMING: Final = frozenset({"resourceLogs", "record", "stream", "MESSAGE", "attributes"})
"""Keys without which ``attrs_of`` returns the line's own object (no OTLP, loguru, Docker, journald or
OTel-console reshaping): lines carrying one are left to ``attrs_of``."""


class PartialAttrs:
    """``attrs_of`` for readers of a few top-level keys: a dict of just those keys, decoded by projection.

    Readers that only ``get`` the ``keys`` (and, inside each ``nested`` key's object, its listed keys)
    see the same values as in the whole mapping ``attrs_of`` builds. Lines that are no plain JSON object,
    that ``attrs_of`` would reshape, or whose wanted values are not scalars orjson decodes the same way
    go to ``fallback``. Results of the current batch are remembered (two readers ask for the same lines).

    Args:
        keys: top-level keys whose scalar values are read.
        nested: top-level keys read as objects, with the keys read inside them.
        fallback: the full ``attrs_of``.
    """

    def __init__(
        self,
        keys: Sequence[str],
        nested: Mapping[str, Sequence[str]],
        fallback: Callable[[bytes, int], Mapping[str, Any]],
    ) -> None:
        self._fallback = fallback
        fields = _scalar_fields(keys)
        fields += [
            (
                f"n{i}",
                _scalars("ProjectedInner", inner) | Scalar,
                msgspec.field(default=msgspec.UNSET, name=k),
            )
            for i, (k, inner) in enumerate(nested.items())
        ]
        fields += [
            (f"r{i}", msgspec.UnsetType, msgspec.field(default=msgspec.UNSET, name=k))
            for i, k in enumerate(sorted(REFRAMING.difference([*keys, *nested])))
        ]
        self._decode = msgspec.json.Decoder(msgspec.defstruct("ProjectedAttrs", fields, gc=False)).decode
        self._seen: dict[tuple[bytes, int], Mapping[str, Any]] = {}
        self._keys = tuple(keys)
        self._nested = tuple((k, tuple(inner)) for k, inner in nested.items())
        self._refused = tuple(sorted(REFRAMING.difference([*keys, *nested])))

    def new_batch(self) -> None:
        """Forget the previous batch's lines."""
        self._seen.clear()

    def of_lines(self, lines: Sequence[bytes]) -> list[Mapping[str, Any]]:
        """The wanted keys of each line (``part`` 0), without remembering them."""
        decode, plain, fallback = self._decode, msgspec.to_builtins, self._fallback
        out: list[Mapping[str, Any]] = []
        rest = iter(lines)
        while True:
            try:
                # One C-level pass; ``extend`` keeps what it took before a line that misses, and ``rest``
                # is past that line, which is ``lines[len(out)]``.
                out.extend(map(plain, map(decode, rest)))
            except MISSES:
                out.append(fallback(lines[len(out)], 0))
            else:
                return out

    def scan_side(
        self,
        lines: Sequence[bytes],
        start: int,
        spec: tuple[Any, ...],
        trace_ids: Sequence[str | None],
        *,
        sums: dict[int, Any],
        keyed: dict[int, Mapping[str, Any]],
    ) -> int:
        """Run the compiled ``_rowscan.scan_side`` with these keys from ``start``; the index of the line it
        left to the Python path (``start`` itself where the scan was not built)."""
        scan = scan_side
        if scan is None:
            return start
        return scan(lines, start, self._keys, self._nested, self._refused, spec, trace_ids, sums, keyed)

    def __call__(self, line: bytes, part: int = 0) -> Mapping[str, Any]:
        """The wanted keys of ``line`` (``part`` as for ``attrs_of``; only OTLP lines have parts)."""
        found = self._seen.get((line, part))
        if found is None:
            try:
                # to_builtins leaves unset fields out and names the rest by their JSON keys, in C.
                found = msgspec.to_builtins(self._decode(line))
            except MISSES:
                found = self._fallback(line, part)
            self._seen[line, part] = found
        return found


def _scalar_fields(keys: Sequence[str]) -> list[tuple[str, Any, Any]]:
    return [(f"k{i}", Scalar, msgspec.field(default=msgspec.UNSET, name=k)) for i, k in enumerate(keys)]


def _scalars(name: str, keys: Sequence[str]) -> type:
    """A struct reading ``keys`` as scalars (UNSET when absent), skipping every other key."""
    made: type = msgspec.defstruct(name, _scalar_fields(keys), gc=False)
    return made
