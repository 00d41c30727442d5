"""The level shortcut for other writers' lines: decode their level keys only; parse what that cannot judge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec

from agent_tui.model.parsing.formats.mapping import ENVELOPE_KEYS, LEVEL_KEYS
from agent_tui.model.parsing.formats.shapes import level_of
from agent_tui.model.parsing.projection import MISSES
from agent_tui.schema import Level

__all__ = ["LevelReader"]

_CACHED: Final = 4096
"""Most distinct level-key value tuples remembered."""
_UNKNOWN: Final = object()


class LevelReader:
    """Reads the level of flat JSON object lines from their level keys alone (``formats.mapping.LEVEL_KEYS``).

    Such a line is one record, whose level is its one non-null level key's value read in that key's scheme
    (INFO when the value names no level, or when it has none), as the parser reads it. Lines it leaves to the
    parser: no JSON object msgspec accepts (text, blank, broken lines), envelopes (their records' levels
    come from inside), two level keys (which one counts depends on the lines before), and level values
    other than strings, integers and nulls.
    """

    def __init__(self, levels: frozenset[Level]) -> None:
        self._wanted = levels
        self._schemes = tuple(scheme for _, scheme in LEVEL_KEYS)
        # Strings, integers and nulls only: a bool or a float would share a cache entry with the integer
        # it equals (True == 1, 40.0 == 40) though the parser reads them otherwise, and objects or lists
        # cannot be keys. Those values fail the decode and go to the parser.
        fields: list[tuple[str, Any, Any]] = [
            (f"l{i}", str | int | None | msgspec.UnsetType, msgspec.field(default=msgspec.UNSET, name=key))
            for i, (key, _) in enumerate(LEVEL_KEYS)
        ]
        # A value of any envelope key fails to decode as UNSET: the line goes to the parser.
        fields += [
            (f"e{i}", msgspec.UnsetType, msgspec.field(default=msgspec.UNSET, name=key))
            for i, key in enumerate(sorted(ENVELOPE_KEYS))
        ]
        self._decode = msgspec.json.Decoder(msgspec.defstruct("LevelKeys", fields, gc=False)).decode
        self._levels: dict[tuple[Any, ...], Level | None] = {}

    def split(self, lines: Sequence[bytes]) -> tuple[list[int], list[int]]:
        """``(wanted, odd)``: indices of the lines holding one record of a wanted level, and of the lines
        the parser must judge; every other line holds one record of another level."""
        decode, astuple, known = self._decode, msgspec.structs.astuple, self._levels
        wanted, levels = [], self._wanted
        odd: list[int] = []
        if len(known) > _CACHED:
            known.clear()
        for index, line in enumerate(lines):
            try:
                values = astuple(decode(line))
            except MISSES:
                odd.append(index)
                continue
            level = known.get(values, _UNKNOWN)
            if level is _UNKNOWN:
                level = known[values] = self._level(values)
            if level is None:
                odd.append(index)
            elif level in levels:
                wanted.append(index)
        return wanted, odd

    def _level(self, values: tuple[Any, ...]) -> Level | None:
        present = [
            (v, s)
            for v, s in zip(values, self._schemes, strict=False)
            if v is not None and v is not msgspec.UNSET
        ]
        if len(present) > 1:
            return None
        if not present:
            return Level.INFO
        value, scheme = present[0]
        return level_of(value, scheme) or Level.INFO
