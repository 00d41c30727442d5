"""``key > 50`` read from a flat line's bytes: lines whose number fails the comparison are never decoded.

The filter ``amount_usdc > 50`` (any of ``< <= > >=`` with a number, on a top-level attribute) matches a
line only if the line is a JSON object whose ``amount_usdc`` is a number passing the comparison
(``fastpaths.fast_order``); a line that is no JSON object has no attributes. So a line may be dropped
unread when its bytes show the key's value fails, as long as those bytes are surely that value:

* the line starts with ``{`` and holds no other ``{`` (one flat object: the key is at the top level, no
  envelope nests the record) and no backslash (no escaped key or quote: ``"amount_usdc"`` followed by
  ``:`` is then exactly that key);
* ``"amount_usdc"`` occurs once in the line (JSON keeps the last of repeated keys);
* the value is a JSON number of at most 15 characters (read as orjson reads it: an int, or a correctly
  rounded float), followed by ``,`` or ``}``.

Whatever the spacing around ``:`` and ``,``. A line no decoder takes (not even ``decode_line``'s tolerant
pass) has no attributes and matches nothing; one it takes holds this value: dropping it is right either
way. Every other line, and every line that passes, is judged as before.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from agent_tui.model.query.checks import ORDER_OPS, RECORD_FIELDS
from agent_tui.model.query.nodes import Compare, Node, Num

__all__ = ["NumberTest"]

_SAFE_KEY: Final = re.compile(r"[A-Za-z0-9_@-]+\Z")
_ORDER: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_WIDEST: Final = 15
"""Longer number tokens (wide integers, long fractions) are left to the decoder."""
_OPEN, _BACKSLASH = b"{", b"\\"


@dataclass(frozen=True, slots=True)
class NumberTest:
    """Rejects lines of a ``key OP number`` filter from their bytes (see the module docstring).

    Attributes:
        key: the key as written, quoted (``b'"amount_usdc"'``).
        pattern: matches at the key: the key, ``:``, a JSON number (group 1 its integer part, group 2
            its fraction and exponent), then ``,`` or ``}``, with any JSON spacing.
        compare: the operator.
        literal: the number compared with.
    """

    key: bytes
    pattern: re.Pattern[bytes]
    compare: Callable[[Any, Any], bool]
    literal: int | float

    @classmethod
    def of(cls, node: Node) -> NumberTest | None:
        """The test for ``node`` when it is a numeric comparison of one top-level attribute, else None."""
        if not isinstance(node, Compare) or node.op not in ORDER_OPS or not isinstance(node.value, Num):
            return None
        path = node.field.path
        if len(path) != 1 or path in RECORD_FIELDS or path[0] in ("level", "ts", "error"):
            return None
        if not _SAFE_KEY.match(path[0]) or type(node.value.value) not in (int, float):
            return None
        key = b'"' + path[0].encode() + b'"'
        space = rb"[ \t\r]*"
        number = rb"(-?(?:0|[1-9][0-9]*))((?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
        pattern = re.compile(re.escape(key) + space + b":" + space + number + space + rb"[,}]")
        return cls(key, pattern, _ORDER[node.op], node.value.value)

    def undecided(self, data: bytes, search: Callable[[int], int], into: dict[int, bytes]) -> None:
        """Add to ``into`` (line start → line) each line naming the key that its bytes do not rule out.

        ``search(pos)`` finds the next occurrence of the key's opening (``"amount_usdc``) in ``data``.
        """
        find, rfind, count, match = data.find, data.rfind, data.count, self.pattern.match
        key, compare, literal, size = self.key, self.compare, self.literal, len(data)
        pos = 0
        # One hot loop: a flat line (one "{", no backslash) naming the key once, with a short number.
        while (hit := search(pos)) >= 0:
            start = rfind(b"\n", 0, hit) + 1
            end = find(b"\n", hit)
            if end < 0:
                end = size
            pos = end + 1
            found = match(data, hit, end)
            if (
                found is not None
                and data[start] == 0x7B
                and find(_OPEN, start + 1, end) < 0
                and find(_BACKSLASH, start, end) < 0
                and count(key, start, end) == 1
            ):
                whole, rest = found.group(1, 2)
                if len(whole) + len(rest) <= _WIDEST and not compare(
                    float(whole + rest) if rest else int(whole), literal
                ):
                    continue
            into[start] = data[start:end]
