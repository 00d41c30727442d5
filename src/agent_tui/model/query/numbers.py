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

Whatever the spacing around ``:`` and ``,``. If the line turns out not to be valid JSON it matches nothing
either, so dropping it is right too. Every other line, and every line that passes, is judged as before.
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

    def rejects(self, data: bytes, hit: int, start: int, end: int) -> bool:
        """True when line ``data[start:end]``, which names the key at ``hit``, surely fails the comparison."""
        found = self.pattern.match(data, hit, end)
        if found is None or data[start] != 0x7B:
            return False
        if data.find(_OPEN, start + 1, end) >= 0 or data.find(_BACKSLASH, start, end) >= 0:
            return False
        if data.count(self.key, start, end) != 1:
            return False
        whole, rest = found.group(1, 2)
        if len(whole) + len(rest) > _WIDEST:
            return False
        value = float(whole + rest) if rest else int(whole)
        return not self.compare(value, self.literal)
