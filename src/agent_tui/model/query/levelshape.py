"""The line shapes the ``query`` level shortcut classifies from bytes, and the lines it must parse instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from agent_tui.model.query.bytesearch import Finder
from agent_tui.schema import Level

__all__ = ["SHAPES", "Shape", "odd_line_starts", "shape_of"]

_NAMES: Final = tuple(level.label for level in Level)
_NAME_GROUP: Final = rb"(" + b"|".join(n.encode() for n in _NAMES) + rb")"


@dataclass(frozen=True, slots=True)
class Shape:
    """A spelling of the line start the level shortcut reads: ``{"ts":"…","level":"<name>"``.

    Attributes:
        simple: matches the shape at a line start; group 1 is the level name.
        not_simple: a newline not followed by the shape.
        separator: what precedes the level name.
    """

    simple: re.Pattern[bytes]
    not_simple: re.Pattern[bytes]
    separator: bytes
    opening: bytes

    @classmethod
    def of(cls, opening: bytes, separator: bytes) -> Shape:
        simple = re.escape(opening) + rb'[^"\\\n]{1,64}' + re.escape(separator) + _NAME_GROUP + rb'"'
        lookahead = rb"\n(?!" + simple.replace(rb"(", rb"(?:") + rb")"
        return cls(re.compile(simple), re.compile(lookahead), separator, opening)

    def not_rejected(self, rejected: frozenset[bytes]) -> re.Pattern[bytes]:
        """A newline not followed by the shape with a ``rejected`` name: before odd lines and wanted ones."""
        names = b"|".join(sorted(rejected))
        return re.compile(
            rb"\n(?!"
            + re.escape(self.opening)
            + rb'[^"\\\n]{1,64}'
            + re.escape(self.separator)
            + rb"(?:"
            + names
            + rb')")'
        )


SHAPES: Final = (Shape.of(b'{"ts":"', b'","level":"'), Shape.of(b'{"ts": "', b'", "level": "'))
"""Compact, and ``json.dumps``' ``", "``/``": "``. A buffer is read in the spelling most of its first lines
use (a writer keeps to one): lines in the other are odd lines, parsed, so mixing costs time, never answers."""
_ENVELOPE_KEY: Final = re.compile(rb'"(?:resourceLogs|record|stream|__REALTIME_TIMESTAMP|MESSAGE)"')
"""Keys that make the parser unwrap a nested shape (``formats.mapping.ENVELOPE_KEYS``), as written."""
_LEVELLESS_ENVELOPES: Final = tuple(map(Finder, (b'"resourceLogs"', b'"MESSAGE"', b'"__REALTIME_TIMESTAMP"')))
"""Envelopes whose records take their level from somewhere other than a ``"level"`` key."""
_LEVEL_KEY: Final = b'"level"'
_UNICODE_ESCAPE: Final = Finder(b"\\u")


def shape_of(data: bytes) -> Shape | None:
    """The spelling most of the buffer's first lines use; None when none of them is in either.

    A buffer of other writers' lines (pino, structlog, python-json-logger put other keys first) would be
    all odd lines: classifying them costs a pass per line before every one is parsed anyway.
    """
    head = data[: 64 << 10]
    spaced, compact = head.count(b'{"ts": "'), head.count(b'{"ts":"')
    if not spaced and not compact:
        return None
    return SHAPES[spaced > compact]


def odd_line_starts(
    data: bytes, shape: Shape, wanted: tuple[frozenset[bytes], re.Pattern[bytes]] | None = None
) -> tuple[set[int], set[int]] | None:
    """``(odd, wanted)`` line starts, or None when the whole buffer must be parsed.

    Odd lines, which the level shortcut must not classify, are those not in a simple
    ``{"ts":…,"level":"<name>"`` shape, those naming an envelope key, those holding a ``\\u`` escape (a
    key could spell ``level`` in escapes), and an unterminated last line. If the ``"level"`` key occurs more
    often in the simple lines than there are simple lines, one of them has it twice (JSON keeps the last),
    and the count cannot say which: None. ``wanted``: the accepted names and ``shape.not_rejected`` of the
    others; simple lines with an accepted name are then found in the same pass (else the set is empty).
    """
    odd: set[int] = set()
    accepted, pattern = wanted if wanted is not None else (frozenset(), shape.not_simple)
    size = len(data)
    starts = [m.start() + 1 for m in pattern.finditer(data) if m.start() + 1 < size]
    match = shape.simple.match
    if data:
        starts.append(0)
    found: set[int] = set()
    for start in starts:
        simple = match(data, start)
        if simple is None:
            odd.add(start)
        elif simple.group(1) in accepted:
            found.add(start)
    if data and not data.endswith(b"\n"):
        odd.add(data.rfind(b"\n") + 1)
    # A simple-looking line that also names an envelope key is a nested shape to the parser. Docker
    # lines never reach here (``pieces_possible``) and loguru's nested "level" fails the key count below.
    if any(marker.find(data) >= 0 for marker in _LEVELLESS_ENVELOPES):
        odd.update(data.rfind(b"\n", 0, m.start()) + 1 for m in _ENVELOPE_KEY.finditer(data))
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    shaped = lines - len(odd)
    keys = data.count(_LEVEL_KEY)
    for start in odd:
        end = data.find(b"\n", start)
        keys -= data.count(_LEVEL_KEY, start, end if end >= 0 else size)
    if keys != shaped:
        return None
    search, pos = _UNICODE_ESCAPE.searcher(data), 0
    while (hit := search(pos)) >= 0:
        odd.add(data.rfind(b"\n", 0, hit) + 1)
        end = data.find(b"\n", hit)
        if end < 0:
            break
        pos = end + 1
    return odd, found - odd
