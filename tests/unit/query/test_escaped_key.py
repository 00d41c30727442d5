"""``ESCAPED_KEY`` finds a ``\\u`` escape in an object key exactly where the backtracking form did."""

from __future__ import annotations

import random
import re

from agent_tui.model.query.prefilter import ESCAPED_KEY

REFERENCE = re.compile(rb'\\u[0-9a-fA-F]{4}(?:[^"\\]|\\.)*"[ \t\r\n]*:')
"""The previous, backtracking form: the definition (quadratic in the escapes of one long string)."""
PARTS = (b"a", b'"', b"\\", b"u", b"0", b"e", b"9", b":", b" ", b"\\u00e9", b"\\\\", b'\\"', b"\n", b"\\u9")


def test_agrees_with_the_backtracking_form_on_random_fragments() -> None:
    """Keys, values, escaped quotes and backslashes, invalid escapes and newlines in every order."""
    rng = random.Random(8)
    for _ in range(50_000):
        text = b"".join(rng.choice(PARTS) for _ in range(rng.randint(0, 14)))
        assert (ESCAPED_KEY.search(text) is None) == (REFERENCE.search(text) is None), text


def test_finds_escaped_keys_and_ignores_escaped_values() -> None:
    """The cases the readers rely on: an escaped key anywhere on a line, escapes only in values."""
    assert ESCAPED_KEY.search(b'{"\\u006cevel": "error"}') is not None
    assert ESCAPED_KEY.search(b'{"msg": "caf\\u00e9 \\u00e9", "l\\u0065vel" : 1}') is not None
    assert ESCAPED_KEY.search(b'{"msg": "caf\\u00e9 \\u00e9\\u00e9", "level": "error"}') is None
    assert ESCAPED_KEY.search(b'{"msg": "\\\\u0041 is no escape"}') is None


def test_a_long_value_full_of_escapes_is_read_once() -> None:
    """A value of 60 000 escapes before an escaped key: found in one pass (the backtracking form takes
    minutes here, past the suite's timeout; it grows with the square of the escapes)."""
    line = b'{"table": "' + b"x\\u2014" * 60_000 + b'", "k\\u00e9y": 1}'
    found = ESCAPED_KEY.search(line)
    assert found is not None and found.group() == b'\\u00e9y":'
